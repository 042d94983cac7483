import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Signing
import ShareLinks

/// The audit lines of share links: made, used (or looked at with HEAD), revoked.
extension PresignService {
    /// One audit line per link event. The id appears only as its 8-character prefix. An event that `grants` is
    /// refused (false, nothing written) when its line cannot be queued under `audit_on_backpressure: refuse`.
    @discardableResult
    func writeLinkAudit(_ event: String, _ request: HTTPRequest, id: LinkID, record: LinkRecord, now: Double, use: Int64? = nil, grants: Bool = true) -> Bool {
        let config = store.config(worker: request.worker)
        guard config.auditLog else { return true }
        var line = JSONWriter(capacity: 320)
        line.beginObject()
        line.string("audit", event)
        line.string("time", SigningTime(epochSeconds: Int64(now)).iso8601)
        line.string("request_id", request.requestId)
        if let theirs = request.clientRequestId { line.string("client_request_id", theirs) }
        line.string("link", id.logPrefix)
        line.string("caller", record.caller)
        line.string("backend", record.backend)
        line.string("bucket", record.bucket)
        line.string("key", record.key)
        if let use { line.integer("use", use) }
        line.string("expires_at", SigningTime(epochSeconds: record.expiresAt).iso8601)
        line.string("client_ip", request.clientAddress)
        line.endObject()
        if grants { return auditGrant(line.text, config) }
        audit.info("\(line.text)")
        return true
    }
}
