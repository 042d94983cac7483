/// One Redis reply (RESP2). An error reply is a reply, not a failure: the command reached the server.
public enum RedisReply: Equatable, Sendable {
    case string([UInt8])
    case integer(Int64)
    case array([RedisReply])
    case null
    case status(String)
    case error(String)

    /// The limits every reply is held to while it arrives (`RESPParser` checks each at the header that crosses it):
    /// over one, the command fails with `.tooLarge`, and the connection is dropped and made again.
    public enum Limits {
        /// Arrays nested in arrays, the outermost counted.
        public static let maxDepth = 8
        /// Elements announced by all the array headers of one reply together.
        public static let maxElements = 1024
        /// One bulk string.
        public static let maxBulkBytes = 1 << 20
        /// One reply, every byte counted (headers and CRLFs too): room for one string at its limit.
        public static let maxReplyBytes = 2 << 20
        /// One status or error line, CRLF not counted (an integer line is at most 20 bytes).
        public static let maxLineBytes = 64 << 10
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
    /// The reply was over `RedisReply.Limits`; the text says which.
    case tooLarge(String)

    /// The failure in words, for log lines (the client hears only `kind`).
    public var description: String {
        switch self {
        case .unavailable(let why): "unavailable (\(why))"
        case .timeout: "timeout"
        case .disconnected: "disconnected"
        case .protocolError(let why): "protocol error (\(why))"
        case .tooLarge(let why): "reply too large (\(why))"
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
