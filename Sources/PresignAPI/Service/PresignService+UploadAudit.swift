import Foundation
import HTTPServer
import LineLog
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
        let log = store.generation(worker: request.worker).derived.audit
        guard log.enabled else { return true }
        var event = Self.auditEvent(
            "upload", request, caller: token.caller, backend: token.backend, bucket: token.bucket, key: token.key, now: now)
        event.step = step
        event.subject = token.subject
        event.parts = parts
        event.size = size
        return log.write(event, grants: grants)
    }
}
