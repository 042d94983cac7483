import Foundation
import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignConfig
import PresignCore
import S3Signing

/// One signed answer not yet handed out: its JSON, and its audit line (nil with the audit log off).
struct Issued {
    let body: [UInt8]
    let auditLine: String?
    let operation: String
    let backend: String
}

/// The audit log: one JSON line per issued URL, and what happens when it cannot be written
/// (`audit_on_backpressure`).
extension PresignService {
    /// A grant whose audit line cannot be queued under `audit_on_backpressure: refuse`.
    static let auditUnavailable = APIError(
        .auditUnavailable,
        "the audit log cannot take this grant's line right now (stdout is not being read fast enough); nothing was granted; retry later",
        headers: ["Retry-After": "5"])

    /// Room asked for before work that has effects (a store write, an S3 call) starts: more than any audit line.
    static let auditLineAllowance = 8192

    /// Whether this worker may queue audit lines of `bytes` bytes (newlines between several included) now. Always
    /// true with the audit log off, under `drop`, or without a `LineOutput` (the in-process client in tests).
    func auditAdmits(_ config: ServiceConfig, bytes: Int) -> Bool {
        guard config.auditLog, config.auditOnBackpressure == .refuse, let logOutput else { return true }
        return logOutput.admits(bytes: bytes, stream: .audit)
    }

    /// Throws 503 `AuditUnavailable` when a grant could not be audited now: checked before a route starts work
    /// with effects, so that work is not done for nothing (the line itself is checked again when written).
    func requireAuditRoom(_ config: ServiceConfig) throws(APIError) {
        guard auditAdmits(config, bytes: Self.auditLineAllowance) else { throw Self.auditUnavailable }
    }

    /// Writes the audit line of a grant that is about to be answered; false, and nothing written, when it cannot be
    /// queued under `refuse`: the caller answers `auditUnavailable` instead of the grant. Only the writer thread
    /// takes lines out of this worker's queue, so room found here is still there when the line is appended.
    func auditGrant(_ line: String, _ config: ServiceConfig) -> Bool {
        guard config.auditLog else { return true }
        guard auditAdmits(config, bytes: line.utf8.count) else { return false }
        audit.info("\(line)")
        return true
    }

    /// Hands out signed URLs: all their audit lines are written and they are counted, or (`refuse`, no room for
    /// all of them) nothing is and the answer is false.
    func issue(_ grants: [Issued], _ request: HTTPRequest, _ config: ServiceConfig) -> Bool {
        let lines = grants.compactMap(\.auditLine)
        if !lines.isEmpty {
            let bytes = lines.reduce(-1) { $0 + $1.utf8.count + 1 }
            guard auditAdmits(config, bytes: bytes) else { return false }
            for line in lines { audit.info("\(line)") }
        }
        for grant in grants { metrics.issued(worker: request.worker, operation: grant.operation, backend: grant.backend) }
        return true
    }

    /// One JSON line per issued URL: never a secret, a signature or the URL itself.
    func auditLine(
        request: HTTPRequest, caller: String, operation: String, backend: String, bucket: String?, key: String?,
        expiresAt: SigningTime, now: Double
    ) -> String {
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
        return line.text
    }
}
