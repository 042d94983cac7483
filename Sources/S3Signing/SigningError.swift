/// Why a URL or signature could not be produced. Every case carries a message a caller can show as is.
public struct SigningError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case invalidExpiry
        case invalidEndpoint
        case invalidBucketName
        case invalidKey
        case invalidHeader
        case invalidQuery
        case invalidOperation
        case invalidPolicy
        case invalidTime
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
