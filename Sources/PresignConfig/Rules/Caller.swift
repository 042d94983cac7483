import JSONKit
import Foundation
import S3Signing
import PresignCore

/// Who is calling, how they prove it, and what they may sign.
public struct Caller: Sendable {
    public enum Auth: Sendable {
        case apiKey(digest: [UInt8])
        case jwt(JWTAuth.Verifier)
    }

    public struct RateLimit: Sendable, Equatable {
        public let perSecond: Double
        public let burst: Double
        /// `per: subject`: one bucket per JWT `sub` (per caller when a token has none, and for API keys), where
        /// the limit is kept in Redis. The in-process limiter always keeps one bucket per caller.
        public var perSubject: Bool = false
    }

    public let name: String
    public let index: Int
    public let auth: Auth
    public let rateLimit: RateLimit?
    public let rules: [PolicyRule]
}
