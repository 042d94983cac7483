import Crypto
import Foundation
import S3Signing
import RedisClient
import Yams
import PresignCore

public enum ConfigLoader {
    /// Parses and checks a YAML document. JWT keys are resolved through jwt-kit, which is why this is async.
    public static func load(yaml: String, secrets: SecretSource) async throws(ConfigError) -> ServiceConfig {
        let node: Any?
        do {
            node = try Yams.load(yaml: yaml)
        } catch {
            throw ConfigError("", "not valid YAML: \(error)")
        }
        guard let node else { throw ConfigError("", "the file is empty") }
        try RawConfig.checkKeys(node, shape: "", path: "")
        let raw: RawConfig
        do {
            raw = try YAMLDecoder().decode(RawConfig.self, from: yaml)
        } catch let error as DecodingError {
            throw ConfigError(Self.path(of: error), Self.describe(error))
        } catch {
            throw ConfigError("", "\(error)")
        }
        return try await build(raw, secrets: secrets, dev: false)
    }

    public static func load(file: String, secrets: SecretSource) async throws(ConfigError) -> ServiceConfig {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ConfigError("", "cannot read config file \(file)")
        }
        return try await load(yaml: String(decoding: data, as: UTF8.self), secrets: secrets)
    }

    /// Blocking form for the command line and the SIGHUP handler (never called on a worker loop).
    public static func loadBlocking(file: String, secrets: SecretSource) throws(ConfigError) -> ServiceConfig {
        try blocking { () async throws(ConfigError) in try await load(file: file, secrets: secrets) }
    }

    public static func devProfileBlocking(secrets: SecretSource) -> ServiceConfig {
        // The embedded profile is fixed text; failing to build it is a programming error.
        try! blocking { () async throws(ConfigError) in try await devProfile(secrets: secrets) }
    }

    /// Runs an async load to completion from synchronous code (the command line, the SIGHUP thread; never a
    /// worker loop, and never a task on the cooperative pool, which it would block).
    static func blocking(_ body: @escaping @Sendable () async throws(ConfigError) -> ServiceConfig) throws(ConfigError) -> ServiceConfig {
        final class Box: @unchecked Sendable { var result: Result<ServiceConfig, ConfigError>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            do throws(ConfigError) { box.result = .success(try await body()) } catch { box.result = .failure(error) }
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// `presignd serve` with no --config: local SeaweedFS, API key `dev-key`, bucket `uploads`, loopback only.
    public static let devAPIKey = "dev-key"
    public static let devAdminToken = "dev-admin"
    /// The dev profile's fixed upload-token key: tokens survive a restart of `make run`. Never used elsewhere.
    static let devUploadTokenSecret = "presignd-dev-upload-token-secret-not-for-production"

    public static func devProfile(secrets: SecretSource) async throws(ConfigError) -> ServiceConfig {
        var environment = secrets.environment
        if environment["S3_ACCESS_KEY"]?.isEmpty ?? true { environment["S3_ACCESS_KEY"] = "AKIDPRESIGNTEST" }
        if environment["S3_SECRET_KEY"]?.isEmpty ?? true { environment["S3_SECRET_KEY"] = "presign-test-secret-0123456789abcdef" }
        let keyDigest = APIKeyAuth.digestHex(devAPIKey)
        let adminDigest = APIKeyAuth.digestHex(devAdminToken)
        let raw = RawConfig(
            listen: "127.0.0.1:8080", adminListen: "127.0.0.1:9090", workers: nil, accessLog: true, auditLog: true,
            server: nil,
            backends: ["main": .init(endpoint: environment["PRESIGND_DEV_S3_ENDPOINT"] ?? "http://127.0.0.1:8333", dialect: "aws-v4", region: "us-east-1",
                                     addressing: "path", accessKeyEnv: "S3_ACCESS_KEY", secretKeyEnv: "S3_SECRET_KEY")],
            callers: [.init(name: "dev", auth: .init(apiKeySHA256: keyDigest), rateLimit: nil, rules: [
                .init(name: "dev-objects", operations: ["get", "head", "put", "delete", "get_acl", "put_acl", "post_object"],
                      bucket: "uploads", key: "*", maxExpiresIn: 3600),
                .init(name: "dev-links", operations: ["share_link"], bucket: "uploads", key: "*", maxExpiresIn: 30 * 86_400),
            ])],
            cors: .init(allowedOrigins: ["http://127.0.0.1:8080", "http://localhost:8080"], maxAge: 600),
            admin: .init(tokenSHA256: [adminDigest]), uploads: nil,
            links: .init(publicBaseURL: "http://127.0.0.1:8080", sqlitePath: environment["PRESIGND_DEV_LINKS_PATH"] ?? ".cache/presignd-links.sqlite"))
        var config = try await build(raw, secrets: SecretSource(environment: environment, readFile: secrets.readFile), dev: true)
        config.uploadTokenKey = Array(devUploadTokenSecret.utf8)
        return config
    }


    static func build(_ raw: RawConfig, secrets: SecretSource, dev: Bool) async throws(ConfigError) -> ServiceConfig {
        var server = ServiceConfig.ServerSettings()
        if let s = raw.server {
            typealias B = ConfigBounds
            if let v = s.maxHeaderBytes { server.maxHeaderBytes = try B.check(v, B.maxHeaderBytes, path: "server.max_header_bytes") }
            if let v = s.maxBodyBytes { server.maxBodyBytes = try B.check(v, B.maxBodyBytes, path: "server.max_body_bytes") }
            if let v = s.headerTimeout { server.headerTimeout = try B.check(v, B.serverTimeout, path: "server.header_timeout") }
            if let v = s.idleTimeout { server.idleTimeout = try B.check(v, B.serverTimeout, path: "server.idle_timeout") }
            if let v = s.bodyTimeout { server.bodyTimeout = try B.check(v, B.serverTimeout, path: "server.body_timeout") }
            if let v = s.maxConnections { server.maxConnections = try B.check(v, B.maxConnections, path: "server.max_connections") }
            if let v = s.drainSeconds { server.drainSeconds = try B.check(v, B.drainSeconds, path: "server.drain_seconds") }
            if let v = s.logBufferBytes { server.logBufferBytes = try B.check(v, B.logBufferBytes, path: "server.log_buffer_bytes") }
            if let v = s.auditBufferBytes { server.auditBufferBytes = try B.check(v, B.logBufferBytes, path: "server.audit_buffer_bytes") }
        }
        if let workers = raw.workers { _ = try ConfigBounds.check(workers, ConfigBounds.workers, path: "workers") }
        guard !raw.backends.isEmpty else { throw ConfigError("backends", "at least one backend is required") }
        var backends: [String: ServiceConfig.Backend] = [:]
        for (index, name) in raw.backends.keys.sorted().enumerated() {
            backends[name] = try backend(name, index: index, raw.backends[name]!, secrets: secrets)
        }
        guard !raw.callers.isEmpty else { throw ConfigError("callers", "at least one caller is required") }
        var callers: [Caller] = []
        var names: Set<String> = []
        for (index, rawCaller) in raw.callers.enumerated() {
            let path = "callers[\(index)]"
            guard !rawCaller.name.isEmpty, names.insert(rawCaller.name).inserted else {
                throw ConfigError("\(path).name", "caller names must be non-empty and unique")
            }
            callers.append(try await caller(rawCaller, index: index, path: path, backends: backends, secrets: secrets))
        }
        var cors: ServiceConfig.CORS?
        if let c = raw.cors {
            for (i, origin) in c.allowedOrigins.enumerated() where origin != "*" {
                guard origin.hasPrefix("http://") || origin.hasPrefix("https://"), !origin.hasSuffix("/") else {
                    throw ConfigError("cors.allowed_origins[\(i)]", "an origin is scheme://host[:port] with no path, or *")
                }
            }
            let maxAge = try ConfigBounds.check(c.maxAge ?? 600, ConfigBounds.corsMaxAge, path: "cors.max_age")
            cors = .init(allowedOrigins: c.allowedOrigins, maxAge: maxAge)
        }
        var adminDigests: [[UInt8]] = []
        for (i, hex) in (raw.admin?.tokenSHA256 ?? []).enumerated() {
            guard let digest = APIKeyAuth.parseDigest(hex) else {
                throw ConfigError("admin.token_sha256[\(i)]", "must be 64 hex digits (sha256 of the token)")
            }
            adminDigests.append(digest)
        }
        var uploadTokenKey: [UInt8]?
        if let uploads = raw.uploads {
            let secret = try secrets.value(
                env: uploads.tokenSecretEnv, file: uploads.tokenSecretFile,
                path: uploads.tokenSecretFile != nil && uploads.tokenSecretEnv == nil ? "uploads.token_secret_file" : "uploads.token_secret_env",
                what: "upload token secret")
            guard secret.utf8.count >= 32 else {
                throw ConfigError("uploads.token_secret_env", "the upload token secret must be at least 32 bytes")
            }
            uploadTokenKey = Array(secret.utf8)
        }
        var config = ServiceConfig(
            listen: raw.listen ?? "127.0.0.1:8080", adminListen: raw.adminListen, workers: raw.workers,
            accessLog: raw.accessLog ?? true, auditLog: raw.auditLog ?? true, server: server, backends: backends,
            callers: callers, cors: cors, adminTokenDigests: adminDigests, isDevProfile: dev, uploadTokenKey: uploadTokenKey)
        switch raw.auditOnBackpressure ?? "refuse" {
        case "refuse": config.auditOnBackpressure = .refuse
        case "drop": config.auditOnBackpressure = .drop
        case let other: throw ConfigError("audit_on_backpressure", "must be refuse or drop (got '\(other)')")
        }
        if let state = raw.state { config.state = try Self.state(state, secrets: secrets) }
        if let links = raw.links { config.links = try Self.links(links, redis: config.state?.redis != nil) }
        for (index, caller) in config.callers.enumerated() where caller.rateLimit?.perSubject == true && config.state?.redis == nil {
            throw ConfigError("callers[\(index)].rate_limit.per", "per: subject keeps one bucket per JWT subject in Redis; it needs state.redis")
        }
        return config
    }

    static func state(_ raw: RawConfig.RawState, secrets: SecretSource) throws(ConfigError) -> ServiceConfig.State {
        let failOpen: Bool
        switch raw.onError ?? "deny" {
        case "deny": failOpen = false
        case "allow": failOpen = true
        case let other: throw ConfigError("state.on_error", "must be deny or allow (got '\(other)')")
        }
        guard let redis = raw.redis else {
            throw ConfigError("state.redis", "is required: state: holds the Redis server the fleet shares")
        }
        let url: RedisURL
        do { url = try RedisURL(parsing: redis.url) } catch { throw ConfigError("state.redis.url", error.message) }
        var password: String?
        if redis.passwordEnv != nil || redis.passwordFile != nil {
            password = try secrets.value(
                env: redis.passwordEnv, file: redis.passwordFile,
                path: redis.passwordFile != nil && redis.passwordEnv == nil ? "state.redis.password_file" : "state.redis.password_env",
                what: "Redis password")
        }
        if url.password != nil && password != nil {
            throw ConfigError("state.redis.url", "give the password in the URL or by password_env/_file, not both")
        }
        let connect = try ConfigBounds.check(redis.connectTimeoutMs ?? 1000, ConfigBounds.redisConnectTimeoutMs, path: "state.redis.connect_timeout_ms")
        let command = try ConfigBounds.check(redis.commandTimeoutMs ?? 250, ConfigBounds.redisCommandTimeoutMs, path: "state.redis.command_timeout_ms")
        return .init(
            redis: RedisSettings(url: url, password: password, connectTimeoutMillis: connect, commandTimeoutMillis: command),
            failOpen: failOpen)
    }

    static func backend(_ name: String, index: Int, _ raw: RawConfig.RawBackend, secrets: SecretSource) throws(ConfigError) -> ServiceConfig.Backend {
        let path = "backends.\(name)"
        let endpoint: S3Endpoint
        do { endpoint = try S3Endpoint(parsing: raw.endpoint) } catch { throw ConfigError("\(path).endpoint", error.message) }
        var publicEndpoint: S3Endpoint?
        if let text = raw.publicEndpoint {
            do { publicEndpoint = try S3Endpoint(parsing: text) } catch { throw ConfigError("\(path).public_endpoint", error.message) }
        }
        let signature: SignatureVersion
        switch raw.dialect {
        case "s3fm": signature = .s3fm
        case "aws-v2": signature = .v2
        case "aws-v4": signature = .v4
        default: throw ConfigError("\(path).dialect", "must be s3fm, aws-v2 or aws-v4 (got '\(raw.dialect)')")
        }
        guard let addressing = Addressing(rawValue: raw.addressing ?? "path") else {
            throw ConfigError("\(path).addressing", "must be path, virtual or vanity")
        }
        let region = raw.region ?? "us-east-1"
        guard S3Validation.isRegion(region) else {
            throw ConfigError("\(path).region", "invalid region '\(region)'")
        }
        let staticFields = [raw.accessKeyEnv, raw.accessKeyFile, raw.secretKeyEnv, raw.secretKeyFile].contains { $0 != nil }
        if raw.credentials != nil && staticFields {
            throw ConfigError("\(path).credentials", "give static keys (access_key_*/secret_key_*) or credentials:, not both")
        }
        var access = "", secret = ""
        if raw.credentials == nil {
            access = try secrets.value(env: raw.accessKeyEnv, file: raw.accessKeyFile, path: "\(path).access_key_env", what: "access key")
            secret = try secrets.value(env: raw.secretKeyEnv, file: raw.secretKeyFile, path: "\(path).secret_key_env", what: "secret key")
        }
        for (field, value) in [("connect_timeout", raw.connectTimeout), ("request_timeout", raw.requestTimeout), ("low_speed_timeout", raw.lowSpeedTimeout)] {
            if let value { _ = try ConfigBounds.check(value, ConfigBounds.backendTimeout, path: "\(path).\(field)") }
        }
        let vanityDomains = try Self.vanityDomains(raw.vanityDomains, addressing: addressing, path: "\(path).vanity_domains")
        let configuration = S3Presigner.Configuration(
            endpoint: endpoint, publicEndpoint: publicEndpoint, region: region, addressing: addressing,
            signature: signature, credentials: Credentials(accessKeyId: access, secretAccessKey: secret),
            vanityDomains: vanityDomains)
        var credentials: RotatingCredentials?
        if let rawCredentials = raw.credentials { credentials = try rotatingCredentials(rawCredentials, backend: name, secrets: secrets) }
        return .init(
            name: name, index: index, presigner: configuration, credentials: credentials, connectTimeout: raw.connectTimeout ?? 5,
            requestTimeout: raw.requestTimeout ?? 300, lowSpeedTimeout: raw.lowSpeedTimeout ?? 30)
    }

    /// The domains vanity buckets must fall under: DNS names of two or more labels, written in lower case.
    static func vanityDomains(_ raw: [String]?, addressing: Addressing, path: String) throws(ConfigError) -> [String] {
        guard let raw else { return [] }
        guard addressing == .vanity else { throw ConfigError(path, "only means something with addressing: vanity") }
        guard !raw.isEmpty else { throw ConfigError(path, "list at least one domain, or leave the field out") }
        for (i, domain) in raw.enumerated() {
            guard S3Validation.isHostName(domain), domain.contains("."), !S3Endpoint(scheme: "https", host: domain).isIPAddress else {
                throw ConfigError("\(path)[\(i)]", "'\(domain)' is not a lower-case DNS name with a dot (example.com)")
            }
        }
        return raw
    }

}
