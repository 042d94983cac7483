import Crypto
import Foundation
import PresignCore
import S3Signing
import RedisClient
import Yams

/// A checked configuration, ready to serve: signers built, secrets read, patterns compiled, JWT keys resolved.
public struct ServiceConfig: Sendable {
    public struct ServerSettings: Sendable, Equatable {
        public var maxHeaderBytes = 16 * 1024
        public var maxBodyBytes: Int64 = 1024 * 1024
        public var headerTimeout = 10.0
        public var idleTimeout = 60.0
        public var bodyTimeout = 30.0
        public var maxConnections = 20_000
        public var drainSeconds = 10.0
        /// Bytes of access-log lines, and of other log lines, each worker holds while stdout is not read.
        public var logBufferBytes = 1 << 20
        /// Bytes of audit lines each worker holds while stdout is not read.
        public var auditBufferBytes = 4 << 20

        public init() {}
    }

    public final class Backend: Sendable {
        public let name: String
        /// Its place among the configured backends (sorted by name): where the service keeps its signer.
        public let index: Int
        /// The presigner's settings: endpoint, addressing, region, signature version, and the static keys (empty
        /// when `credentials` is given: each set a source hands out replaces them).
        public let presigner: S3Presigner.Configuration
        /// Where rotating credentials come from (`credentials:`); nil: the static keys sign for ever. A description
        /// only: the service builds the cell that holds the current set (`BackendSigners`, PresignRuntime).
        public let credentials: RotatingCredentials?
        /// Connect, total and low-speed timeouts in seconds, for the admin proxy's requests.
        public let connectTimeout: Double
        public let requestTimeout: Double
        public let lowSpeedTimeout: Double

        public init(
            name: String, index: Int, presigner: S3Presigner.Configuration, credentials: RotatingCredentials?,
            connectTimeout: Double, requestTimeout: Double, lowSpeedTimeout: Double
        ) {
            self.name = name
            self.index = index
            self.presigner = presigner
            self.credentials = credentials
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.lowSpeedTimeout = lowSpeedTimeout
        }

        public var signature: SignatureVersion { presigner.signature }
    }

    /// A rotating backend that cannot sign now (answered 503 `CredentialsUnavailable`).
    public struct CredentialsUnavailable: Error, Sendable, Equatable {
        public let backend: String
        /// For the log (never a secret).
        public let reason: String

        public init(backend: String, reason: String) {
            self.backend = backend
            self.reason = reason
        }
    }

    public struct CORS: Sendable {
        public let allowedOrigins: [String]
        public let maxAge: Int

        public func allows(_ origin: String) -> Bool { allowedOrigins.contains("*") || allowedOrigins.contains(origin) }
    }

    public var listen: String
    public var adminListen: String?
    public var workers: Int?
    public var accessLog: Bool
    public var auditLog: Bool
    /// What a grant does when its audit line cannot be queued (stdout is not read fast enough): `refuse` (the
    /// default) answers 503 `AuditUnavailable` and grants nothing; `drop` grants and counts the dropped line.
    public var auditOnBackpressure: AuditBackpressure = .refuse
    public var server: ServerSettings
    public var backends: [String: Backend]
    public var callers: [Caller]
    public var cors: CORS?
    /// SHA-256 digests of the admin bearer tokens.
    public var adminTokenDigests: [[UInt8]]
    /// The embedded dev profile (no --config).
    public var isDevProfile: Bool
    /// The HMAC key of multipart upload tokens (`uploads.token_secret_env`/`_file`; a fixed value in the dev
    /// profile). Nil: the upload endpoints answer 501.
    public var uploadTokenKey: [UInt8]? = nil
    /// Fleet state (`state:`): nil keeps rate limits in process and links in SQLite.
    public var state: State? = nil

    public struct State: Sendable {
        /// The Redis server every replica shares; nil keeps the in-process limiter.
        public var redis: RedisSettings?
        /// `on_error: allow`: when Redis cannot answer, rate-limited routes serve without the limit (counted in
        /// `presignd_rate_limit_fail_open_total`). The default, `deny`, answers 503. Links always fail closed.
        public var failOpen: Bool
    }

    /// Share links (`links:`). Nil: the link endpoints answer 404 `LinksDisabled`.
    public var links: Links? = nil

    public struct Links: Sendable, Equatable {
        /// Where `/l/{id}` is reached from outside, with no trailing slash (`https://share.example.com`).
        public var publicBaseURL: String
        /// The SQLite file links live in; nil when they live in Redis (`state.redis`).
        public var sqlitePath: String?
        /// The lifetime of the presigned GET each use redirects to, in seconds.
        public var urlTTL: Int64
        /// How long a write waits for SQLite's lock before answering 503.
        public var busyTimeoutMillis: Int
        /// Live (unexpired, unrevoked, not used up) links one caller may hold; one more is 429 `TooManyLinks`.
        public var maxLivePerCaller = 1000
        /// `GET`/`HEAD /l/{id}` limits per client address (IPv4, or an IPv6 /64) and per link: 429 past them.
        public var perAddress = Caller.RateLimit(perSecond: 5, burst: 20)
        public var perLink = Caller.RateLimit(perSecond: 20, burst: 100)
        /// Peers whose `X-Forwarded-For` names the client (see `TrustedProxies`); empty: the peer is the client.
        public var trustedProxies = TrustedProxies([])

        public init(publicBaseURL: String, sqlitePath: String?, urlTTL: Int64 = 60, busyTimeoutMillis: Int = 50) {
            self.publicBaseURL = publicBaseURL
            self.sqlitePath = sqlitePath
            self.urlTTL = urlTTL
            self.busyTimeoutMillis = busyTimeoutMillis
        }
    }

    public enum BackendChoice: Error, Equatable, Sendable {
        case unknown(String)
        /// No name given and several backends configured.
        case ambiguous

        /// The one answer to a name that is not configured, sent by the presign API, the upload routes and the admin
        /// proxy alike: 404 `BackendNotFound`. nil for `.ambiguous`, which each surface answers as its own missing
        /// field or query parameter.
        public var notFound: APIError? {
            guard case .unknown(let name) = self else { return nil }
            return APIError(.backendNotFound, "no backend named '\(name)'")
        }
    }

    /// The backend a request names, or the only one when it names none: the one rule for the presign API and the
    /// admin proxy (each words its own answer).
    public func backend(named name: String?) -> Result<(name: String, backend: Backend), BackendChoice> {
        if let name {
            guard let named = backends[name] else { return .failure(.unknown(name)) }
            return .success((name, named))
        }
        guard backends.count == 1, let only = backends.first else { return .failure(.ambiguous) }
        return .success((only.key, only.value))
    }
}

/// `audit_on_backpressure`: refuse a grant whose audit line cannot be written, or grant it and drop the line.
public enum AuditBackpressure: String, Sendable {
    case drop, refuse
}
