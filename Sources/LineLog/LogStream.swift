/// What a line on stdout is: one access-log line per request, an audit line, or any other log record. Each has its
/// own bound in a worker's `LineQueue` and its own `presignd_log_lines_dropped_total{stream}` count.
public enum LogStream: Int, CaseIterable, Sendable {
    case access, audit, log

    /// The metric label.
    public var name: String {
        switch self {
        case .access: return "access"
        case .audit: return "audit"
        case .log: return "log"
        }
    }

    /// The stream of a logger by its label: `presignd.access`, `presignd.audit`, anything else is `log`.
    public init(label: String) {
        switch label {
        case "presignd.access": self = .access
        case "presignd.audit": self = .audit
        default: self = .log
        }
    }
}
