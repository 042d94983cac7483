import Crypto
import Foundation
import S3Signing
import Yams

/// A configuration problem, with the path of the offending field (`callers[0].rules[1].key`).
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// The YAML file as written (see deploy/presignd.example.yaml). `ConfigLoader` checks it and turns it into a
/// `ServiceConfig`; nothing here is used at request time.
struct RawConfig: Decodable {
    var listen: String?
    var adminListen: String?
    var workers: Int?
    var accessLog: Bool?
    var auditLog: Bool?
    var server: RawServer?
    var backends: [String: RawBackend]
    var callers: [RawCaller]
    var cors: RawCORS?
    var admin: RawAdmin?

    enum CodingKeys: String, CodingKey {
        case listen, workers, server, backends, callers, cors, admin
        case adminListen = "admin_listen"
        case accessLog = "access_log"
        case auditLog = "audit_log"
    }

    struct RawServer: Decodable {
        var maxHeaderBytes: Int?
        var maxBodyBytes: Int64?
        var headerTimeout: Double?
        var idleTimeout: Double?
        var bodyTimeout: Double?
        var maxConnections: Int?
        var drainSeconds: Double?

        enum CodingKeys: String, CodingKey {
            case maxHeaderBytes = "max_header_bytes"
            case maxBodyBytes = "max_body_bytes"
            case headerTimeout = "header_timeout"
            case idleTimeout = "idle_timeout"
            case bodyTimeout = "body_timeout"
            case maxConnections = "max_connections"
            case drainSeconds = "drain_seconds"
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

        enum CodingKeys: String, CodingKey {
            case endpoint, dialect, region, addressing
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

    struct RawCaller: Decodable {
        var name: String
        var auth: RawAuth
        var rateLimit: RawRateLimit?
        var rules: [RawRule]

        enum CodingKeys: String, CodingKey {
            case name, auth, rules
            case rateLimit = "rate_limit"
        }
    }

    struct RawAuth: Decodable {
        var apiKeySHA256: String?
        var jwt: RawJWT?

        enum CodingKeys: String, CodingKey {
            case apiKeySHA256 = "api_key_sha256"
            case jwt
        }
    }

    struct RawJWT: Decodable {
        var issuer: String
        var audience: String
        var jwksFile: String?
        var hs256SecretEnv: String?
        var hs256SecretFile: String?
        var leewaySeconds: Int?

        enum CodingKeys: String, CodingKey {
            case issuer, audience
            case jwksFile = "jwks_file"
            case hs256SecretEnv = "hs256_secret_env"
            case hs256SecretFile = "hs256_secret_file"
            case leewaySeconds = "leeway_seconds"
        }
    }

    struct RawRateLimit: Decodable {
        var perSecond: Double
        var burst: Double

        enum CodingKeys: String, CodingKey {
            case perSecond = "per_second"
            case burst
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

        enum CodingKeys: String, CodingKey {
            case name, operations, bucket, key, backend
            case maxExpiresIn = "max_expires_in"
            case contentTypes = "content_types"
            case maxContentLength = "max_content_length"
        }
    }

    struct RawCORS: Decodable {
        var allowedOrigins: [String]
        var maxAge: Int?

        enum CodingKeys: String, CodingKey {
            case allowedOrigins = "allowed_origins"
            case maxAge = "max_age"
        }
    }

    struct RawAdmin: Decodable {
        var tokenSHA256: [String]

        enum CodingKeys: String, CodingKey {
            case tokenSHA256 = "token_sha256"
        }
    }

    /// Every key the file may use, by place; anything else is a typo and an error.
    static let allowedKeys: [String: Set<String>] = [
        "": ["listen", "admin_listen", "workers", "access_log", "audit_log", "server", "backends", "callers", "cors", "admin"],
        "server": ["max_header_bytes", "max_body_bytes", "header_timeout", "idle_timeout", "body_timeout", "max_connections", "drain_seconds"],
        "backends.*": ["endpoint", "dialect", "region", "addressing", "public_endpoint", "access_key_env", "secret_key_env",
                       "access_key_file", "secret_key_file", "connect_timeout", "request_timeout", "low_speed_timeout",
                       "vanity_domains"],
        "callers[]": ["name", "auth", "rate_limit", "rules"],
        "callers[].auth": ["api_key_sha256", "jwt"],
        "callers[].auth.jwt": ["issuer", "audience", "jwks_file", "hs256_secret_env", "hs256_secret_file", "leeway_seconds"],
        "callers[].rate_limit": ["per_second", "burst"],
        "callers[].rules[]": ["name", "operations", "bucket", "key", "backend", "max_expires_in", "content_types", "max_content_length"],
        "cors": ["allowed_origins", "max_age"],
        "admin": ["token_sha256"],
    ]

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

/// The range every number in the config file (and every matching `serve` flag) must fall in. A value outside is
/// refused by path, never clamped: NaN, infinities and absurd sizes have crashed conversions to `Int` and timer
/// arithmetic before, and a typo should be an error, not a surprise.
public enum ConfigBounds {
    public static let workers: ClosedRange<Int> = 1...256
    public static let maxHeaderBytes: ClosedRange<Int> = 256...(1 << 20)
    public static let maxBodyBytes: ClosedRange<Int64> = 1024...(64 << 20)
    /// header, idle and body timeouts, in seconds.
    public static let serverTimeout: ClosedRange<Double> = 0.001...3600
    public static let maxConnections: ClosedRange<Int> = 1...1_000_000
    public static let drainSeconds: ClosedRange<Double> = 0...3600
    /// connect, request and low-speed timeouts of a backend, in seconds.
    public static let backendTimeout: ClosedRange<Double> = 0.001...86_400
    public static let ratePerSecond: ClosedRange<Double> = 0.001...1_000_000
    public static let burst: ClosedRange<Double> = 1...1_000_000
    /// A year; SigV4 backends stop at 604800 s on top of this.
    public static let maxExpiresIn: ClosedRange<Int64> = 1...31_536_000
    /// S3's largest object, 5 TiB.
    public static let maxContentLength: ClosedRange<Int64> = 0...(5 << 40)
    public static let corsMaxAge: ClosedRange<Int> = 0...86_400
    public static let jwtLeeway: ClosedRange<Int> = 0...300

    /// `value` when it is within `range`; otherwise a `ConfigError` at `path` that names the range and the value.
    public static func check<T: BinaryInteger>(_ value: T, _ range: ClosedRange<T>, path: String) throws(ConfigError) -> T {
        guard range.contains(value) else {
            throw ConfigError(path, "must be between \(range.lowerBound) and \(range.upperBound); got \(value)")
        }
        return value
    }

    /// As above for a real number; NaN and infinities are never within a range.
    public static func check(_ value: Double, _ range: ClosedRange<Double>, path: String) throws(ConfigError) -> Double {
        guard value.isFinite, range.contains(value) else {
            throw ConfigError(path, "must be between \(render(range.lowerBound)) and \(render(range.upperBound)); got \(render(value))")
        }
        return value
    }

    /// Whole numbers without a fraction (`3600`, not `3600.0`); others as Swift prints them (`0.001`, `1e-19`, `nan`).
    static func render(_ value: Double) -> String {
        value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}

/// Where secrets come from: environment variables and files only, never the config text itself.
public struct SecretSource: Sendable {
    public var environment: [String: String]
    public var readFile: @Sendable (String) -> String?

    public init(environment: [String: String], readFile: @escaping @Sendable (String) -> String? = SecretSource.readFromDisk) {
        self.environment = environment
        self.readFile = readFile
    }

    public static let process = SecretSource(environment: ProcessInfo.processInfo.environment)

    public static let readFromDisk: @Sendable (String) -> String? = { path in
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A secret from `env` or `file` (trailing newline removed, as Kubernetes secret files often have one).
    func value(env: String?, file: String?, path: String, what: String) throws(ConfigError) -> String {
        if env != nil && file != nil { throw ConfigError(path, "give \(what) by environment or by file, not both") }
        if let env {
            guard let value = environment[env], !value.isEmpty else {
                throw ConfigError(path, "environment variable \(env) (\(what)) is not set")
            }
            return value
        }
        if let file {
            guard let text = readFile(file) else { throw ConfigError(path, "cannot read \(what) file \(file)") }
            let value = text.trimmingCharacters(in: .newlines)
            guard !value.isEmpty else { throw ConfigError(path, "\(what) file \(file) is empty") }
            return value
        }
        throw ConfigError(path, "\(what) is required (an _env or _file field)")
    }
}
