extension RESPParser {
    /// Why the parser stopped. The limits become `RedisError.tooLarge`, the rest `RedisError.protocolError`; either way
    /// the connection is dropped and made again.
    enum Failure: Error, Equatable, CustomStringConvertible {
        /// A `$` header announced more than `maxBulkBytes`.
        case bulkTooLong(length: Int64, limit: Int)
        /// The `*` headers of one reply announced more than `maxElements` elements together.
        case tooManyElements(count: Int64, limit: Int)
        /// An array header at a nesting deeper than `maxDepth`.
        case tooDeep(limit: Int)
        /// The reply passed `maxReplyBytes`, or a `$` header announced a string that would take it past.
        case replyTooLarge(limit: Int)
        /// A status or error line longer than `maxLineBytes`, or an integer line longer than `maxIntegerBytes` (CRLF
        /// not counted).
        case lineTooLong(limit: Int)
        /// Not RESP2.
        case malformed(String)

        var description: String {
            switch self {
            case .bulkTooLong(let length, let limit): "a bulk string of \(length) bytes (the limit is \(limit))"
            case .tooManyElements(let count, let limit): "\(count) array elements in one reply (the limit is \(limit))"
            case .tooDeep(let limit): "arrays nested deeper than \(limit)"
            case .replyTooLarge(let limit): "a reply over \(limit) bytes"
            case .lineTooLong(let limit): "a line over \(limit) bytes"
            case .malformed(let why): why
            }
        }

        /// What the command that was waiting for the reply fails with.
        var error: RedisError {
            if case .malformed = self { return .protocolError(description) }
            return .tooLarge(description)
        }
    }
}
