import HTTPServer
import LineLog
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
    func writeLinkAudit(_ kind: String, _ request: HTTPRequest, id: LinkID, record: LinkRecord, now: Double, use: Int64? = nil, grants: Bool = true) -> Bool {
        let log = store.generation(worker: request.worker).derived.audit
        // With the audit log off nothing is built: not the event, its times or the id's prefix.
        guard log.enabled else { return true }
        var event = Self.auditEvent(
            kind, request, caller: record.caller, backend: record.backend, bucket: record.bucket, key: record.key, now: now)
        event.link = id.logPrefix
        event.use = use
        event.expiresAt = SigningTime(epochSeconds: record.expiresAt).iso8601
        return log.write(event, grants: grants)
    }
}
