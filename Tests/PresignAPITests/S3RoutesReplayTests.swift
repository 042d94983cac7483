import AdminProxy
import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignAPI
import PresignConfig
import S3Client
import Testing
import UVLoop

/// The replay corpus of the routes that call S3 (the upload routes and the admin proxy), served in process on a
/// real libuv loop (`DrivenLoop`) against `FakeS3`, through the same `S3fmAuthConnection` and documents as a live
/// backend: every status, header, body and audit line byte for byte. `PRESIGND_RECORD_REPLAY=1 swift test --filter
/// S3RoutesReplayTests` records `Replay/s3-routes.jsonl` again.
struct S3RoutesReplayTests {
    static let file = Replay.directory.appendingPathComponent("s3-routes.jsonl")
    static let opsKey = "replay-s3-ops-key-0123456789"
    static let adminToken = "replay-admin-token-0123456789"
    static let environment = [
        "S3_ACCESS_KEY": "AKIDREPLAY", "S3_SECRET_KEY": "replay-secret-key",
        "UPLOAD_SECRET": "replay-s3-upload-token-secret-0123456789",
    ]

    static let yaml = """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
          fm: {endpoint: "https://rest.s3for.me", dialect: s3fm, addressing: path,
               access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: ops
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(opsKey))"}
            rules:
              - {operations: [put], bucket: "reports*", key: "*", max_expires_in: 86400, max_content_length: 10000000}
        uploads: {token_secret_env: UPLOAD_SECRET}
        admin: {token_sha256: ["\(APIKeyAuth.digestHex(adminToken))"]}
        """

    /// A request to the API or the admin proxy, or something done to the fake S3 between them (a part uploaded
    /// with a presigned URL, a failure for the next call).
    enum Step {
        case api(Replay.Exchange)
        case admin(Replay.Exchange)
        case s3((FakeS3) -> Void)
    }

    @Test func everyRecordedS3RouteResponseIsReproducedByteForByte() async throws {
        let config = try await ConfigLoader.load(yaml: Self.yaml, secrets: SecretSource(environment: Self.environment))
        let s3 = FakeS3()
        for bucket in ["reports", "logs", "empty"] { s3.createBucket(bucket) }
        s3.put("reports", "a.txt", "hello")
        s3.put("reports", "dir/b.txt", "bee", type: "text/markdown")
        s3.put("reports", "dir/c d+e.txt", "sea")
        let lines = Fixture.Lines()
        let clock = Fixture.Clock()
        let service = Fixture.service(config, workers: 1, clock: clock, audit: lines, s3: s3.transports)
        let admin = AdminProxy(
            generation: { [service] in service.store.generation(worker: $0).serving },
            audit: .init(label: "audit", factory: { _ in Fixture.CaptureHandler(sink: lines) }),
            s3: s3.transports, clock: { clock.wall })
        let loop = DrivenLoop()
        defer { loop.close() }
        let api = InProcessClient(router: Router(service.endpoints()), loop: loop)
        let adminClient = InProcessClient(router: Router(admin.endpoints()), loop: loop)
        var handles: [String] = []
        var produced: [String] = []
        for step in Self.steps() {
            var exchange: Replay.Exchange
            let client: InProcessClient
            switch step {
            case .s3(let change):
                change(s3)
                continue
            case .api(let made): (exchange, client) = (made, api)
            case .admin(let made): (exchange, client) = (made, adminClient)
            }
            for (index, handle) in handles.enumerated() {
                exchange.target = exchange.target.replacingOccurrences(of: "{upload\(index + 1)}", with: handle)
            }
            clock.mono += exchange.advance * 1_000_000_000
            let before = lines.all.count
            let response = client.respond(exchange.request)
            if case .string(let handle)? = (try? JSONValue.parse(response.body))?["upload"] { handles.append(handle) }
            produced.append(try Replay.line(Replay.record(exchange, response, audit: Array(lines.all[before...]))))
        }
        #expect(produced.count >= 40)
        try Replay.check(produced, file: Self.file)
    }
}
