import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing

extension AdminProxy {
    /// One JSON line per admin call, written before the backend is asked (a call that fails still leaves a line).
    /// False, and nothing written, when the line cannot be queued under `audit_on_backpressure: refuse`: the call
    /// is then answered `auditUnavailable` and the backend is never asked.
    func writeAudit(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime,
                    config: ServiceConfig) -> Bool {
        AuditLog(enabled: config.auditLog, refusesWhenFull: config.auditOnBackpressure == .refuse, output: logOutput, logger: audit)
            .write(Self.auditEvent(request: request, operation: operation, backend: backend, bucket: bucket, key: key, now: now))
    }

    /// An admin call's event; `bucket` and `key` are `null` on routes without them.
    static func auditEvent(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime) -> AuditEvent {
        var event = AuditEvent(
            kind: "admin", time: now.iso8601, requestId: request.requestId, clientRequestId: request.clientRequestId,
            caller: "admin", backend: backend, bucket: bucket, key: key, clientIP: request.clientAddress)
        event.operation = operation
        return event
    }

    /// The answer to an admin call that could not be audited (the presign API's `AuditUnavailable`).
    static let auditUnavailable = HTTPResponse(error: APIError(
        .auditUnavailable,
        "the audit log cannot take this call's line right now (stdout is not being read fast enough); nothing was done; retry later",
        headers: ["Retry-After": "5"]))
}
