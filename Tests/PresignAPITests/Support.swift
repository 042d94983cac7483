import Foundation
import HTTPServer
import JWTKit
import Logging
import PresignAPI
import PresignConfig
import S3Client
import S3Signing
import ShareLinks

/// Shared fixtures: a config with an API-key caller, a JWT (ES256 JWKS) caller and an HS256 caller, a fixed clock.
enum Fixture {
    static let now: Double = 1_795_000_000  // 2026-11-18T11:06:40Z
    static let apiKey = "test-key-0123456789"
    static let hsSecret = "hs256-secret-for-tests-0123456789abcdef"
    static let environment = [
        "S3_ACCESS_KEY": "AKIDTEST", "S3_SECRET_KEY": "test-secret-key", "HS_SECRET": hsSecret,
    ]

    static func yaml(jwksPath: String) -> String {
        """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: batch
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(apiKey))"}
            rate_limit: {per_second: 1, burst: 3}
            rules:
              - {name: reports, operations: [get, put, delete], bucket: reports, key: "*", max_expires_in: 86400}
          - name: web
            auth: {jwt: {issuer: "https://auth.example.com", audience: uploads, jwks_file: "\(jwksPath)", leeway_seconds: 5}}
            rules:
              - {operations: [put, post_object], bucket: uploads, key: "users/${sub}/*", max_expires_in: 600,
                 content_types: ["image/*"], max_content_length: 1000}
              - {operations: [get], bucket: uploads, key: "users/${sub}/*", max_expires_in: 3600}
          - name: mobile
            auth: {jwt: {issuer: "https://hs.example.com", audience: app, hs256_secret_env: HS_SECRET}}
            rules:
              - {operations: [get], bucket: "*", key: "shared/*", max_expires_in: 60}
        cors: {allowed_origins: ["https://app.example.com"], max_age: 600}
        """
    }

    struct Keys {
        let es256: ES256PrivateKey
        let jwksPath: String
    }

    static func makeKeys() throws -> Keys {
        let key = ES256PrivateKey()
        let parameters = key.publicKey.parameters!
        let jwks = #"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","alg":"ES256","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
        let path = NSTemporaryDirectory() + "presignd-jwks-\(UUID().uuidString).json"
        try jwks.write(toFile: path, atomically: true, encoding: .utf8)
        return Keys(es256: key, jwksPath: path)
    }

    static func config(_ keys: Keys) async throws -> ServiceConfig {
        try await ConfigLoader.load(yaml: yaml(jwksPath: keys.jwksPath), secrets: SecretSource(environment: environment))
    }

    final class Lines: @unchecked Sendable {
        var lines: [String] = []
        let lock = NSLock()
        func append(_ line: String) { lock.lock(); lines.append(line); lock.unlock() }
        var all: [String] { lock.lock(); defer { lock.unlock() }; return lines }
    }

    struct CaptureHandler: LogHandler {
        let sink: Lines
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { sink.append("\(event.message)") }
    }

    final class Clock: @unchecked Sendable {
        var wall = Fixture.now
        var mono: UInt64 = 1_000_000_000
    }

    /// A service on `clock` whose log and audit lines go to `audit`; the replay corpora pass their fixed link ids
    /// and the fake S3's transports; `links`, `rateLimit` and `fetcher` are the seams to Redis, SQLite and outbound
    /// HTTP (the live ones unless a test passes its fakes).
    static func service(
        _ config: ServiceConfig, workers: Int = 2, clock: Clock = Clock(), audit: Lines = Lines(),
        linkIDs: @escaping @Sendable () -> LinkID = LinkID.generate, s3: S3Transports = .curl, links: LinkStores = .live,
        rateLimit: (any SharedRateLimit)? = nil, fetcher: any HTTPFetching = CurlFetch()
    ) -> PresignService {
        PresignService(
            config: config, workers: workers,
            clock: RequestClock(wallSeconds: { clock.wall }, monotonicNanos: { clock.mono }),
            logger: Logger(label: "test", factory: { _ in CaptureHandler(sink: audit) }),
            audit: Logger(label: "audit", factory: { _ in CaptureHandler(sink: audit) }),
            linkIDs: linkIDs, s3: s3, links: links, rateLimit: rateLimit, fetcher: fetcher)
    }

    static func request(
        _ method: String, _ target: String, body: String = "", headers: [(String, String)] = [], worker: Int = 0
    ) -> HTTPRequest {
        var all = headers.map { (name: $0.0, value: $0.1) }
        if !body.isEmpty && !headers.contains(where: { $0.0 == "Content-Type" }) { all.append(("Content-Type", "application/json")) }
        let head = HTTPRequestHead(
            method: HTTPMethod(method), target: target, versionMajor: 1, versionMinor: 1, headers: all, keepAlive: true,
            expectsContinue: false, contentLength: Int64(body.utf8.count), chunked: false)
        return HTTPRequest(head: head, body: Array(body.utf8), requestId: "req-1", clientAddress: "192.0.2.7", worker: worker)
    }

    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var iss: IssuerClaim
        var aud: AudienceClaim
        var exp: ExpirationClaim
        var nbf: NotBeforeClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func claims(sub: String, iss: String = "https://auth.example.com", aud: String = "uploads", exp: Double = now + 300, nbf: Double? = nil) -> Claims {
        Claims(
            sub: .init(value: sub), iss: .init(value: iss), aud: .init(value: [aud]),
            exp: .init(value: Date(timeIntervalSince1970: exp)), nbf: nbf.map { .init(value: Date(timeIntervalSince1970: $0)) })
    }

    static func es256Token(_ claims: Claims, key: ES256PrivateKey, kid: String = "k1") async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await collection.sign(claims, kid: JWKIdentifier(string: kid))
    }

    static func hs256Token(_ claims: Claims, secret: String = hsSecret) async throws -> String {
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256)
        return try await collection.sign(claims)
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func text(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    static func header(_ response: HTTPResponse, _ name: String) -> String? {
        response.headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}
