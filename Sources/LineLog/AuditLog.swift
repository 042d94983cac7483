import Logging

/// The one way an audit line leaves presignd, and the one answer to "is audit on, and is there room": built per
/// request from the config in force (`audit_log`, `audit_on_backpressure`) and the process's `LineOutput`.
public struct AuditLog: Sendable {
    public let enabled: Bool
    /// `audit_on_backpressure: refuse`: a grant whose line cannot be queued is refused (the route answers 503
    /// `AuditUnavailable`). Otherwise (`drop`) the grant goes out and the line is dropped and counted.
    public let refusesWhenFull: Bool
    /// stdout as `presignd serve` writes it; nil in process (tests), where every line fits.
    public let output: LineOutput?
    public let logger: Logger

    public init(enabled: Bool, refusesWhenFull: Bool, output: LineOutput?, logger: Logger) {
        self.enabled = enabled
        self.refusesWhenFull = refusesWhenFull
        self.output = output
        self.logger = logger
    }

    /// Whether lines of `bytes` bytes (newlines between several included) may be queued now. Always true with the
    /// audit log off, under `drop`, or without an output.
    public func admits(bytes: Int) -> Bool {
        guard enabled, refusesWhenFull, let output else { return true }
        return output.admits(bytes: bytes, stream: .audit)
    }

    /// Writes `event`; for an event that `grants`, false (and nothing written) when its line cannot be queued under
    /// `refuse`. Events that take access away (a revoke, an abort) are always written, or dropped and counted.
    @discardableResult
    public func write(_ event: @autoclosure () -> AuditEvent, grants: Bool = true) -> Bool {
        guard enabled else { return true }
        return write(lines: [event().line], grants: grants)
    }

    /// Writes every line or, for grants under `refuse` with no room for all of them, none (false).
    @discardableResult
    public func write(lines: [String], grants: Bool = true) -> Bool {
        guard enabled, !lines.isEmpty else { return true }
        if grants {
            let bytes = lines.reduce(-1) { $0 + $1.utf8.count + 1 }
            guard admits(bytes: bytes) else { return false }
        }
        for line in lines { logger.info("\(line)") }
        return true
    }
}
