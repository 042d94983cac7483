import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Client
import S3Signing
import PresignCore

/// The audit lines of multipart uploads, one per step.
extension PresignService {
    /// One JSON line per upload step: never the token, an upload URL or a signature. A step that `grants` is
    /// refused (false, nothing written) when its line cannot be queued under `audit_on_backpressure: refuse`; the
    /// others (abort, complete once S3 has done it) write it, or drop and count it.
    @discardableResult
    func writeUploadAudit(_ step: String, _ request: HTTPRequest, token: UploadToken, now: Double, parts: Int? = nil, size: Int64? = nil, grants: Bool = true) -> Bool {
        let config = store.generation(worker: request.worker).config
        guard config.auditLog else { return true }
        var line = JSONWriter(capacity: 320)
        line.beginObject()
        line.string("audit", "upload")
        line.string("step", step)
        line.string("time", SigningTime(epochSeconds: Int64(now)).iso8601)
        line.string("request_id", request.requestId)
        if let theirs = request.clientRequestId { line.string("client_request_id", theirs) }
        line.string("caller", token.caller)
        if let subject = token.subject { line.string("subject", subject) }
        line.string("backend", token.backend)
        line.string("bucket", token.bucket)
        line.string("key", token.key)
        if let parts { line.integer("parts", parts) }
        if let size { line.integer("size", size) }
        line.string("client_ip", request.clientAddress)
        line.endObject()
        if grants { return auditGrant(line.text, config) }
        audit.info("\(line.text)")
        return true
    }
}
