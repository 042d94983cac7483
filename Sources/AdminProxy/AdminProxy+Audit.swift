import HTTPServer
import JSONKit
import Logging
import S3Signing

extension AdminProxy {
    /// One JSON line per admin call, written before the backend is asked (a call that fails still leaves a line).
    func writeAudit(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime) {
        let line = Self.auditLine(request: request, operation: operation, backend: backend, bucket: bucket, key: key, now: now)
        audit.info("\(String(decoding: line, as: UTF8.self))")
    }

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
