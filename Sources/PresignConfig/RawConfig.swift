import Crypto
import Foundation
import S3Signing
import Yams

/// The YAML file as written (see deploy/presignd.example.yaml). `ConfigLoader` checks it and turns it into a
/// `ServiceConfig`; nothing here is used at request time.
struct RawConfig: Decodable {
    var listen: String?
    var adminListen: String?
    var workers: Int?
    var accessLog: Bool?
    var auditLog: Bool?
    var auditOnBackpressure: String?
    var server: RawServer?
    var backends: [String: RawBackend]
    var callers: [RawCaller]
    var cors: RawCORS?
    var admin: RawAdmin?
    var uploads: RawUploads?
    var links: RawLinks?
    var state: RawState?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case listen, workers, server, backends, callers, cors, admin, uploads, links, state
        case adminListen = "admin_listen"
        case accessLog = "access_log"
        case auditLog = "audit_log"
        case auditOnBackpressure = "audit_on_backpressure"
    }

    struct RawServer: Decodable {
        var maxHeaderBytes: Int?
        var maxBodyBytes: Int64?
        var headerTimeout: Double?
        var idleTimeout: Double?
        var bodyTimeout: Double?
        var maxConnections: Int?
        var drainSeconds: Double?
        var logBufferBytes: Int?
        var auditBufferBytes: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case maxHeaderBytes = "max_header_bytes"
            case maxBodyBytes = "max_body_bytes"
            case headerTimeout = "header_timeout"
            case idleTimeout = "idle_timeout"
            case bodyTimeout = "body_timeout"
            case maxConnections = "max_connections"
            case drainSeconds = "drain_seconds"
            case logBufferBytes = "log_buffer_bytes"
            case auditBufferBytes = "audit_buffer_bytes"
        }
    }

    struct RawBackend: Decodable {
        var endpoint: String
        var dialect: String
        var region: String?
        var addressing: String?
        var publicEndpoint: String?
        var accessKeyEnv: String?
        var secretKeyEnv: String?
        var accessKeyFile: String?
        var secretKeyFile: String?
        var connectTimeout: Double?
        var requestTimeout: Double?
        var lowSpeedTimeout: Double?
        var vanityDomains: [String]?
        var credentials: RawCredentials?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case endpoint, dialect, region, addressing, credentials
            case publicEndpoint = "public_endpoint"
            case accessKeyEnv = "access_key_env"
            case secretKeyEnv = "secret_key_env"
            case accessKeyFile = "access_key_file"
            case secretKeyFile = "secret_key_file"
            case connectTimeout = "connect_timeout"
            case requestTimeout = "request_timeout"
            case lowSpeedTimeout = "low_speed_timeout"
            case vanityDomains = "vanity_domains"
        }
    }

    /// `backends.NAME.credentials`: exactly one rotating source.
    struct RawCredentials: Decodable {
        var file: String?
        var containerEndpoint: String?
        var authorizationTokenFile: String?
        var webIdentity: RawWebIdentity?
        var refreshMarginSeconds: Int64?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case file
            case containerEndpoint = "container_endpoint"
            case authorizationTokenFile = "authorization_token_file"
            case webIdentity = "web_identity"
            case refreshMarginSeconds = "refresh_margin_seconds"
        }
    }

    struct RawWebIdentity: Decodable {
        var roleArn: String
        var tokenFile: String
        var stsEndpoint: String?
        var sessionName: String?
        var durationSeconds: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case roleArn = "role_arn"
            case tokenFile = "token_file"
            case stsEndpoint = "sts_endpoint"
            case sessionName = "session_name"
            case durationSeconds = "duration_seconds"
        }
    }

    struct RawCORS: Decodable {
        var allowedOrigins: [String]
        var maxAge: Int?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case allowedOrigins = "allowed_origins"
            case maxAge = "max_age"
        }
    }

    struct RawUploads: Decodable {
        var tokenSecretEnv: String?
        var tokenSecretFile: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case tokenSecretEnv = "token_secret_env"
            case tokenSecretFile = "token_secret_file"
        }
    }

    struct RawAdmin: Decodable {
        var tokenSHA256: [String]

        enum CodingKeys: String, CodingKey, CaseIterable {
            case tokenSHA256 = "token_sha256"
        }
    }

    /// Every key the file may use, by place; anything else is a typo and an error. Read from the decoders' own
    /// `CodingKeys`, so a field added to a decoder is allowed in the file with no second list to keep in step.
    static let allowedKeys: [String: Set<String>] = {
        func keys<Keys: CodingKey & CaseIterable>(_: Keys.Type) -> Set<String> { Set(Keys.allCases.map(\.stringValue)) }
        return [
            "": keys(RawConfig.CodingKeys.self),
            "server": keys(RawServer.CodingKeys.self),
            "backends.*": keys(RawBackend.CodingKeys.self),
            "backends.*.credentials": keys(RawCredentials.CodingKeys.self),
            "backends.*.credentials.web_identity": keys(RawWebIdentity.CodingKeys.self),
            "callers[]": keys(RawCaller.CodingKeys.self),
            "callers[].auth": keys(RawAuth.CodingKeys.self),
            "callers[].auth.jwt": keys(RawJWT.CodingKeys.self),
            "callers[].rate_limit": keys(RawRateLimit.CodingKeys.self),
            "callers[].rules[]": keys(RawRule.CodingKeys.self),
            "cors": keys(RawCORS.CodingKeys.self),
            "admin": keys(RawAdmin.CodingKeys.self),
            "uploads": keys(RawUploads.CodingKeys.self),
            "links": keys(RawLinks.CodingKeys.self),
            "links.rate_limit": keys(RawLinkLimits.CodingKeys.self),
            "links.rate_limit.per_address": keys(RawLinkRate.CodingKeys.self),
            "links.rate_limit.per_link": keys(RawLinkRate.CodingKeys.self),
            "state": keys(RawState.CodingKeys.self),
            "state.redis": keys(RawRedis.CodingKeys.self),
        ]
    }()

    static func checkKeys(_ node: Any, shape: String, path: String) throws(ConfigError) {
        if let map = node as? [String: Any] {
            if let allowed = allowedKeys[shape] {
                for key in map.keys.sorted() where !allowed.contains(key) {
                    throw ConfigError(path.isEmpty ? key : "\(path).\(key)", "unknown field")
                }
            }
            for (key, value) in map {
                let childShape = shape == "backends" ? "backends.*" : (shape.isEmpty ? key : "\(shape).\(key)")
                try checkKeys(value, shape: childShape, path: path.isEmpty ? key : "\(path).\(key)")
            }
        } else if let list = node as? [Any] {
            for (index, value) in list.enumerated() {
                try checkKeys(value, shape: shape + "[]", path: "\(path)[\(index)]")
            }
        }
    }
}

extension RawConfig.RawBackend {
    init(endpoint: String, dialect: String, region: String?, addressing: String?, accessKeyEnv: String, secretKeyEnv: String) {
        self.endpoint = endpoint
        self.dialect = dialect
        self.region = region
        self.addressing = addressing
        self.accessKeyEnv = accessKeyEnv
        self.secretKeyEnv = secretKeyEnv
    }
}

extension RawConfig.RawAuth {
    init(apiKeySHA256: String) { self.apiKeySHA256 = apiKeySHA256 }
}

extension RawConfig.RawRule {
    init(name: String?, operations: [String], bucket: String, key: String, maxExpiresIn: Int64) {
        self.name = name
        self.operations = operations
        self.bucket = bucket
        self.key = key
        self.maxExpiresIn = maxExpiresIn
    }
}

extension RawConfig.RawCORS {
    init(allowedOrigins: [String], maxAge: Int) {
        self.allowedOrigins = allowedOrigins
        self.maxAge = maxAge
    }
}
