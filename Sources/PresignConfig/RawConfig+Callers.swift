import Crypto
import Foundation
import S3Signing
import Yams

/// The `callers` and `state` sections as written: auth, JWT, rate limits, rules, Redis.
extension RawConfig {
    struct RawCaller: Decodable {
        var name: String
        var auth: RawAuth
        var rateLimit: RawRateLimit?
        var rules: [RawRule]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, auth, rules
            case rateLimit = "rate_limit"
        }
    }

    struct RawAuth: Decodable {
        var apiKeySHA256: String?
        var jwt: RawJWT?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case apiKeySHA256 = "api_key_sha256"
            case jwt
        }
    }

    struct RawJWT: Decodable {
        var issuer: String
        var audience: String
        var jwksFile: String?
        var jwksURL: String?
        var hs256SecretEnv: String?
        var hs256SecretFile: String?
        var leewaySeconds: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case issuer, audience
            case jwksFile = "jwks_file"
            case jwksURL = "jwks_url"
            case hs256SecretEnv = "hs256_secret_env"
            case hs256SecretFile = "hs256_secret_file"
            case leewaySeconds = "leeway_seconds"
        }
    }

    struct RawRateLimit: Decodable {
        var perSecond: Double
        var burst: Double
        var per: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case perSecond = "per_second"
            case burst, per
        }
    }

    struct RawState: Decodable {
        var redis: RawRedis?
        var onError: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case redis
            case onError = "on_error"
        }
    }

    struct RawRedis: Decodable {
        var url: String
        var passwordEnv: String?
        var passwordFile: String?
        var connectTimeoutMs: Int?
        var commandTimeoutMs: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case url
            case passwordEnv = "password_env"
            case passwordFile = "password_file"
            case connectTimeoutMs = "connect_timeout_ms"
            case commandTimeoutMs = "command_timeout_ms"
        }
    }

    struct RawRule: Decodable {
        var name: String?
        var operations: [String]
        var bucket: String
        var key: String?
        var backend: String?
        var maxExpiresIn: Int64
        var contentTypes: [String]?
        var maxContentLength: Int64?
        var minExpiresIn: Int64?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, operations, bucket, key, backend
            case maxExpiresIn = "max_expires_in"
            case minExpiresIn = "min_expires_in"
            case contentTypes = "content_types"
            case maxContentLength = "max_content_length"
        }
    }
}
