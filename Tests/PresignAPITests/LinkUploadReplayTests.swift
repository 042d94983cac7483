import Foundation
import HTTPServer
import Logging
import PresignAPI
import PresignConfig
import PresignCore
import ShareLinks
import Synchronization
import Testing

/// The replay corpus of the share-link routes (SQLite store in a temporary directory) and of the upload route that
/// answers without S3 (`POST /v1/uploads/{upload}/parts`), recorded like `ReplayCorpusTests`: a fixed clock, link
/// ids from a fixed sequence, upload handles sealed by the test under a known key. Every status, header, body and
/// audit line is compared byte for byte; `PRESIGND_RECORD_REPLAY=1 swift test --filter LinkUploadReplayTests`
/// records `Replay/links-uploads.jsonl` again.
struct LinkUploadReplayTests {
    static let file = Replay.directory.appendingPathComponent("links-uploads.jsonl")
    static let opsKey = "replay-links-ops-key-0123456789"
    static let otherKey = "replay-links-other-key-0123456789"
    static let limitedKey = "replay-links-limited-key-0123456789"
    static let hsSecret = "replay-links-hs256-secret-0123456789ab"
    static let uploadSecret = "replay-upload-token-secret-0123456789abcdef"
    static let environment = [
        "S3_ACCESS_KEY": "AKIDREPLAY", "S3_SECRET_KEY": "replay-secret-key", "HS_SECRET": hsSecret, "UPLOAD_SECRET": uploadSecret,
    ]

    /// One service and its own SQLite file: `links` holds the routes and their error shapes, `limits` the live-link
    /// cap and the `/l/{id}` buckets (tight, so they would get in the way of the rest), with uploads off.
    struct Scene {
        var name: String
        var links: String
        var uploads: Bool
        var exchanges: [Replay.Exchange]
    }

    static func yaml(sqlitePath: String, links: String, uploads: Bool) -> String {
        """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
          v2: {endpoint: "https://s3.example.com", dialect: aws-v2, addressing: virtual,
               access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: ops
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(opsKey))"}
            rules:
              - {name: share, operations: [share_link], bucket: reports, key: "public/*", max_expires_in: 2592000}
              - {name: objects, operations: [get, put], bucket: reports, key: "*", max_expires_in: 86400, max_content_length: 100000000}
          - name: other
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(otherKey))"}
            rules:
              - {operations: [share_link, put], bucket: reports, key: "*", max_expires_in: 3600}
          - name: limited
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(limitedKey))"}
            rate_limit: {per_second: 1, burst: 2}
            rules:
              - {operations: [share_link, put], bucket: reports, key: "*", max_expires_in: 3600}
          - name: user
            auth: {jwt: {issuer: "https://hs.example.com", audience: app, hs256_secret_env: HS_SECRET}}
            rules:
              - {name: own, operations: [share_link, put], bucket: uploads, key: "users/${sub}/*", max_expires_in: 604800,
                 content_types: ["image/png"], max_content_length: 50000000}
        links: {public_base_url: "https://share.example.com/", sqlite_path: "\(sqlitePath)", url_ttl: 60\(links)}
        \(uploads ? "uploads: {token_secret_env: UPLOAD_SECRET}" : "")
        cors: {allowed_origins: ["https://app.example.com"], max_age: 600}
        """
    }

    /// Link ids in order of creation: `L001xxxx…`, 32 base64url characters, so the log prefix names the link.
    final class LinkIDs: Sendable {
        let next = Atomic<Int>(0)
        func make() -> LinkID {
            LinkID(Self.text(next.add(1, ordering: .relaxed).newValue))!
        }
        static func text(_ number: Int) -> String { "L" + String(format: "%03d", number) + String(repeating: "x", count: 28) }
    }

    /// An upload handle for `caller`, sealed with the corpus's key (or another), as `POST /v1/uploads` would make it.
    static func upload(
        caller: String = "ops", subject: String? = nil, backend: String = "main", bucket: String = "reports",
        key: String = "big/file.bin", checksum: String? = nil, type: String? = nil, length: Int64? = nil,
        expiresIn: Double = 3600, secret: String = uploadSecret
    ) -> String {
        UploadToken(
            caller: caller, subject: subject, backend: backend, bucket: bucket, key: key, uploadId: "replay-upload-id~1",
            checksumAlgorithm: checksum.flatMap(ChecksumAlgorithm.init(rawValue:)), contentType: type, contentLength: length, expiresAt: Int64(Fixture.now + expiresIn)
        ).sealed(with: Array(secret.utf8))
    }

    @Test func everyRecordedLinkAndUploadResponseIsReproducedByteForByte() async throws {
        let directory = NSTemporaryDirectory() + "presignd-replay-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func token(_ sub: String, exp: Double = Fixture.now + 3600) async throws -> String {
            try await Fixture.hs256Token(Fixture.claims(sub: sub, iss: "https://hs.example.com", aud: "app", exp: exp), secret: Self.hsSecret)
        }
        let tokens = Tokens(user7: try await token("7"), user8: try await token("8"))
        let ids = LinkIDs()
        var produced: [String] = []
        for scene in Self.scenes(tokens) {
            let config = try await ConfigLoader.load(
                yaml: Self.yaml(sqlitePath: directory + "/\(scene.name).sqlite", links: scene.links, uploads: scene.uploads),
                secrets: SecretSource(environment: Self.environment))
            let lines = Fixture.Lines()
            let clock = Fixture.Clock()
            let service = Fixture.service(config, clock: clock, audit: lines, linkIDs: { ids.make() })
            for exchange in scene.exchanges {
                clock.mono += exchange.advance * 1_000_000_000
                clock.wall += exchange.wall
                let before = lines.all.count
                let response = service.respond(exchange.request)
                var exchange = exchange
                exchange.name = scene.name + ": " + exchange.name
                produced.append(try Replay.line(Replay.record(exchange, response, audit: Array(lines.all[before...]))))
            }
        }
        #expect(produced.count >= 100)
        try Replay.check(produced, file: Self.file)
    }

    struct Tokens {
        var user7: String
        var user8: String
    }
}
