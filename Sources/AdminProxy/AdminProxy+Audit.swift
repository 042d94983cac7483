import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignConfig
import S3Signing

extension AdminProxy {
    /// One JSON line per admin call, written before the backend is asked (a call that fails still leaves a line).
    /// False, and nothing written, when the line cannot be queued under `audit_on_backpressure: refuse`: the call
    /// is then answered `auditUnavailable` and the backend is never asked.
    func writeAudit(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime,
                    policy: AuditBackpressure) -> Bool {
        let line = Self.auditLine(request: request, operation: operation, backend: backend, bucket: bucket, key: key, now: now)
        if policy == .refuse, let logOutput, !logOutput.admits(bytes: line.count, stream: .audit) { return false }
        audit.info("\(String(decoding: line, as: UTF8.self))")
        return true
    }

    /// The answer to an admin call that could not be audited (the presign API's `AuditUnavailable`).
    static let auditUnavailable = HTTPResponse.error(
        .serviceUnavailable, code: "AuditUnavailable",
        message: "the audit log cannot take this call's line right now (stdout is not being read fast enough); nothing was done; retry later",
        headers: [("Retry-After", "5")])

    /// The audit line's bytes; `bucket` and `key` are `null` on routes without them.
    static func auditLine(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?,
                          now: SigningTime) -> [UInt8] {
        AdminJSON.object(capacity: 256) { writer in
            writer.string("audit", "admin")
            writer.string("time", now.iso8601)
            writer.string("request_id", request.requestId)
            // The client's own id, marked as theirs, never in place of the server's.
            if let theirs = request.clientRequestId { writer.string("client_request_id", theirs) }
            writer.string("caller", "admin")
            writer.string("operation", operation)
            writer.string("backend", backend)
            writer.optionalString("bucket", bucket)
            writer.optionalString("key", key)
            writer.string("client_ip", request.clientAddress)
        }
    }
}
