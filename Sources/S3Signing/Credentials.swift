/// An access key pair and an optional session token (STS). Never printed by `description`.
public struct Credentials: Sendable, Hashable, CustomStringConvertible {
    public let accessKeyId: String
    public let secretAccessKey: String
    public let sessionToken: String?

    public init(accessKeyId: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyId = accessKeyId
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    public var description: String { "Credentials(accessKeyId: \(accessKeyId), secret: <redacted>)" }
}
