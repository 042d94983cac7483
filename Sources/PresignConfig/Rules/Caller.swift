import JSONKit
import Foundation
import S3Signing

/// Who is calling, how they prove it, and what they may sign.
public struct Caller: Sendable {
    public enum Auth: Sendable {
        case apiKey(digest: [UInt8])
        case jwt(JWTAuth.Verifier)
    }

    public struct RateLimit: Sendable, Equatable {
        public let perSecond: Double
        public let burst: Double
    }

    public let name: String
    public let index: Int
    public let auth: Auth
    public let rateLimit: RateLimit?
    public let rules: [PolicyRule]
}
