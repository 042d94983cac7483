import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Signing

/// The audit log: one JSON line per issued URL.
extension PresignService {
    /// One JSON line per issued URL: never a secret, a signature or the URL itself.
    func writeAudit(
        request: HTTPRequest, caller: String, operation: String, backend: String, bucket: String?, key: String?,
        expiresAt: SigningTime, now: Double
    ) {
        var line = JSONWriter(capacity: 320)
        line.beginObject()
        line.string("audit", "presign")
        line.string("time", SigningTime(epochSeconds: Int64(now)).iso8601)
        line.string("request_id", request.requestId)
        // The client's own id, marked as theirs: it is whatever they chose to send.
        if let theirs = request.clientRequestId { line.string("client_request_id", theirs) }
        line.string("caller", caller)
        line.string("operation", operation)
        line.string("backend", backend)
        line.optionalString("bucket", bucket)
        line.optionalString("key", key)
        line.string("expires_at", expiresAt.iso8601)
        line.string("client_ip", request.clientAddress)
        line.endObject()
        audit.info("\(line.text)")
    }
}
