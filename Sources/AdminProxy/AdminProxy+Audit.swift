import HTTPServer
import Logging
import S3Signing

extension AdminProxy {
    /// One JSON line per admin call, written before the backend is asked (a call that fails still leaves a line).
    func writeAudit(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime) {
        var fields: [(String, AdminJSON.Value)] = [
            ("audit", .string("admin")), ("time", .string(now.iso8601)), ("request_id", .string(request.requestId)),
        ]
        // The client's own id, marked as theirs, never in place of the server's.
        if let theirs = request.clientRequestId { fields.append(("client_request_id", .string(theirs))) }
        fields += [
            ("caller", .string("admin")), ("operation", .string(operation)), ("backend", .string(backend)),
            ("bucket", AdminJSON.optional(bucket)), ("key", AdminJSON.optional(key)), ("client_ip", .string(request.clientAddress)),
        ]
        let line = AdminJSON.object(fields)
        audit.info("\(String(decoding: line, as: UTF8.self))")
    }
}
