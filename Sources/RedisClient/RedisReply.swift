/// One Redis reply (RESP2). An error reply is a reply, not a failure: the command reached the server.
public enum RedisReply: Equatable, Sendable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisReply])
    case null
    case status(String)
    case error(String)

    /// The limits every reply is checked against before it is handed out; over them the command fails with
    /// `.tooLarge`. hiredis itself refuses nesting deeper than 7 arrays (a protocol error that drops the connection)
    /// but bounds neither a bulk string's length nor an array's element count.
    public enum Limits {
        public static let maxDepth = 8
        public static let maxElements = 1024
        public static let maxBulkBytes = 1 << 20
    }
}

/// Why a command got no reply.
public enum RedisError: Error, Equatable, Sendable {
    /// No connection (connecting, backing off, closed, or too many commands in flight); the text says which.
    case unavailable(String)
    /// No reply within the command timeout; the connection is dropped and made again.
    case timeout
    /// The connection went away before the reply came.
    case disconnected
    /// The server's bytes were not RESP, or the command was malformed.
    case protocolError(String)
    /// The reply was over `RedisReply.Limits`.
    case tooLarge

    /// The failure in words, for log lines (the client hears only `kind`).
    public var description: String {
        switch self {
        case .unavailable(let why): "unavailable (\(why))"
        case .timeout: "timeout"
        case .disconnected: "disconnected"
        case .protocolError(let why): "protocol error (\(why))"
        case .tooLarge: "reply too large"
        }
    }

    /// A short name for metrics.
    public var kind: String {
        switch self {
        case .unavailable: "unavailable"
        case .timeout: "timeout"
        case .disconnected: "disconnected"
        case .protocolError: "protocol"
        case .tooLarge: "too_large"
        }
    }
}
