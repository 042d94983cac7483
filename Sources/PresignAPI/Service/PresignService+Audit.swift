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

    /// Throws 503 `AuditUnavailable` when a grant could not be audited now: checked before a route starts work
    /// with effects, so that work is not done for nothing (the line itself is checked again when written).
    func requireAuditRoom(_ snapshot: Snapshot) throws(APIError) {
        guard snapshot.derived.audit.admits(bytes: Self.auditLineAllowance) else { throw Self.auditUnavailable }
    }

    /// Hands out signed URLs: all their audit lines are written and they are counted, or (`refuse`, no room for
    /// all of them) nothing is and the answer is false.
    func issue(_ grants: [Issued], _ request: HTTPRequest, _ snapshot: Snapshot) -> Bool {
        guard snapshot.derived.audit.write(lines: grants.compactMap(\.auditLine)) else { return false }
        for grant in grants { metrics.issued(worker: request.worker, operation: grant.operation, backend: grant.backend) }
        return true
    }

    /// `issue` for one answer, without an array of one (an allocation per presign with the audit log off).
    func issue(_ grant: Issued, _ request: HTTPRequest, _ snapshot: Snapshot) -> Bool {
        if let line = grant.auditLine, !snapshot.derived.audit.write(lines: [line]) { return false }
        metrics.issued(worker: request.worker, operation: grant.operation, backend: grant.backend)
        return true
    }

    /// The event every route's audit line starts from: who asked, when, from where, about which object.
    static func auditEvent(
        _ kind: String, _ request: HTTPRequest, caller: String, backend: String, bucket: String?, key: String?, now: Double
    ) -> AuditEvent {
        AuditEvent(
            kind: kind, time: SigningTime(epochSeconds: Int64(now)).iso8601, requestId: request.requestId,
            clientRequestId: request.clientRequestId, caller: caller, backend: backend, bucket: bucket, key: key,
            clientIP: request.clientAddress)
    }
}
