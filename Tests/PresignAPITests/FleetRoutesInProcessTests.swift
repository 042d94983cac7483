import Foundation
import HTTPServer
import JSONKit
import PresignAPI
import PresignConfig
import RedisClient
import ShareLinks
import Testing
import UVLoop

/// The fleet routes in process: share links on an in-memory `LinkStore` and the Redis rate limit on an in-memory
/// `SharedRateLimit`, both answering on a later turn of a `DrivenLoop`, through the same routes as a socket. The
/// config is `harness/fleet.py`'s, and the bodies are the ones `test_fleet_*.py` assert against redis-server (which stays).
struct FleetRoutesInProcessTests {
    static let key = "fleet-key-0123456789"
    static let fastKey = "fleet-fast-key-0123456789"
    static let rateLimited = #"{"error":{"code":"RateLimited","message":"caller 'fleet' is over its rate limit"}}"#
    static let revoked = #"{"error":{"code":"LinkRevoked","message":"this link was revoked"}}"#
    static let usedUp = #"{"error":{"code":"LinkUsedUp","message":"this link has been used as many times as it allows"}}"#
    static let linksUnavailable = #"{"error":{"code":"LinkStoreUnavailable","message":"the link store is unavailable; retry later"}}"#
    static func limiterUnavailable(_ kind: String) -> String {
        #"{"error":{"code":"RateLimiterUnavailable","message":"the rate limiter cannot answer (redis: \#(kind)); retry"}}"#
    }

    static func yaml(onError: String) -> String {
        """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:9", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: fleet
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(key))"}
            rate_limit: {per_second: 1, burst: 10}
            rules:
              - {name: objects, operations: [get, share_link], bucket: b, key: "k/*", max_expires_in: 86400}
          - name: fast
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(fastKey))"}
            rate_limit: {per_second: 100000, burst: 100000}
            rules:
              - {name: objects, operations: [get, share_link], bucket: b, key: "k/*", max_expires_in: 86400}
        state:
          redis: {url: "redis://127.0.0.1:9/0"}
          on_error: \(onError)
        links: {public_base_url: "http://127.0.0.1:8080", url_ttl: 60}
        """
    }

    struct Setup {
        let service: PresignService
        let loop: DrivenLoop
        let client: InProcessClient
        let links: FakeLinkStore
        let limiter: FakeRateLimit
    }

    static func setup(onError: String = "deny") async throws -> Setup {
        let config = try await ConfigLoader.load(yaml: yaml(onError: onError), secrets: SecretSource(environment: Fixture.environment))
        let links = FakeLinkStore()
        let limiter = FakeRateLimit()
        let service = Fixture.service(config, links: LinkStores { _ in links }, rateLimit: limiter)
        let loop = DrivenLoop()
        return Setup(service: service, loop: loop, client: InProcessClient(router: Router(service.endpoints()), loop: loop), links: links, limiter: limiter)
    }

    /// Serves one request, checking that its answer came later (on a later turn of the loop), not from the handler.
    static func call(_ s: Setup, _ method: String, _ path: String, _ body: String = "", bearer: String? = nil) throws -> HTTPResponse {
        let request = Fixture.request(method, path, body: body, headers: bearer.map { [("Authorization", "Bearer \($0)")] } ?? [])
        var answer: InProcessClient.Answer?
        let exchange = s.client.start(request) { answer = $0 }
        #expect(!exchange.isAnswered, "\(method) \(path) answered before its store or limiter did")
        s.loop.run { answer != nil }
        return try #require(answer?.response)
    }

    static func presign(_ s: Setup, _ key: String = key) throws -> HTTPResponse {
        try call(s, "POST", "/v1/presign", #"{"operation":"get","bucket":"b","key":"k/a"}"#, bearer: key)
    }

    static func createLink(_ s: Setup, _ body: String) throws -> (HTTPResponse, String) {
        let response = try call(s, "POST", "/v1/links", body, bearer: fastKey)
        guard case .string(let id)? = (try? JSONValue.parse(response.body))?["id"] else { return (response, "") }
        return (response, id)
    }

    @Test func linksAreMadeUsedAndRevokedOnAStoreThatAnswersLater() async throws {
        let s = try await Self.setup()
        defer { s.loop.close() }
        let (created, id) = try Self.createLink(s, #"{"bucket":"b","key":"k/shared.txt","expires_in":3600}"#)
        #expect(created.status.code == 201)
        #expect(Fixture.text(created) == #"{"id":"\#(id)","url":"http://127.0.0.1:8080/l/\#(id)","expires_at":"2026-11-18T12:06:40Z","max_uses":null}"#)
        let used = try Self.call(s, "GET", "/l/\(id)")
        #expect(used.status.code == 302)
        #expect(Fixture.header(used, "Location")?.hasPrefix("http://127.0.0.1:9/b/k/shared.txt?") == true)
        let revoked = try Self.call(s, "DELETE", "/v1/links/\(id)", bearer: Self.fastKey)
        #expect(revoked.status.code == 204 && revoked.body.isEmpty)
        let gone = try Self.call(s, "GET", "/l/\(id)")
        #expect(gone.status.code == 410 && Fixture.text(gone) == Self.revoked)
        #expect(s.links.log == ["create", "fetch", "use", "fetch", "revoke", "fetch"])

        let (_, ten) = try Self.createLink(s, #"{"bucket":"b","key":"k/ten.txt","max_uses":10,"expires_in":3600}"#)
        let statuses = try (0..<12).map { _ in try Self.call(s, "GET", "/l/\(ten)") }
        #expect(statuses.map(\.status.code) == Array(repeating: 302, count: 10) + [410, 410])
        #expect(statuses.suffix(2).allSatisfy { Fixture.text($0) == Self.usedUp })
        let info = try Self.call(s, "GET", "/v1/links/\(ten)", bearer: Self.fastKey)
        #expect(info.status.code == 200)
        #expect(Fixture.text(info) == #"{"id":"\#(ten)","backend":"main","bucket":"b","key":"k/ten.txt","created_at":"2026-11-18T11:06:40Z","expires_at":"2026-11-18T12:06:40Z","max_uses":10,"uses":10,"revoked":false,"state":"used_up"}"#)
    }

    @Test func aLinkStoreThatIsDownAnswers503WithRetryAfter() async throws {
        let s = try await Self.setup()
        defer { s.loop.close() }
        let (_, id) = try Self.createLink(s, #"{"bucket":"b","key":"k/a"}"#)
        s.links.failure = .unavailable("redis: unavailable (connection refused)")
        for response in [try Self.call(s, "GET", "/l/\(id)"), try Self.createLink(s, #"{"bucket":"b","key":"k/b"}"#).0,
                         try Self.call(s, "DELETE", "/v1/links/\(id)", bearer: Self.fastKey)] {
            #expect(response.status.code == 503)
            #expect(Fixture.text(response) == Self.linksUnavailable)
            #expect(Fixture.header(response, "Retry-After") == "1")
            #expect(Fixture.header(response, "Cache-Control") == "no-store")
        }
    }

    /// A store that answers a record no store of ours writes (a hostile or hand-edited Redis) is the store's
    /// trouble: 503, and no use is counted or redirect signed from it.
    @Test func aLinkStoreThatLiesAboutARecordIsAnswered503AndNothingIsUsed() async throws {
        let s = try await Self.setup()
        defer { s.loop.close() }
        let (_, id) = try Self.createLink(s, #"{"bucket":"b","key":"k/a"}"#)
        s.links.lie = { record in
            var lie = record
            lie.createdAt = .min
            return lie
        }
        let open = try Self.call(s, "GET", "/l/\(id)")
        let info = try Self.call(s, "GET", "/v1/links/\(id)", bearer: Self.fastKey)
        for response in [open, info] {
            #expect(response.status.code == 503)
            #expect(Fixture.text(response) == Self.linksUnavailable)
        }
        #expect(!s.links.log.contains("use"))
    }

    @Test func theRedisLimitIsTakenLaterAndRefused429() async throws {
        let s = try await Self.setup()
        defer { s.loop.close() }
        let answers = try (0..<12).map { _ in try Self.presign(s) }
        #expect(answers.map(\.status.code) == Array(repeating: 200, count: 10) + [429, 429])
        for refused in answers.suffix(2) {
            #expect(Fixture.text(refused) == Self.rateLimited)
            #expect(Fixture.header(refused, "Retry-After") == "1")
        }
        // One key per caller, one unit per call, the caller's name digested as the Redis script's key.
        #expect(Set(s.limiter.calls.map(\.key)).count == 1 && s.limiter.calls.allSatisfy { $0.cost == 1 })
        #expect(String(decoding: s.limiter.calls[0].key, as: UTF8.self).hasPrefix("presignd:rl:"))
    }

    @Test func aLimiterThatIsDownAnswers503WithRetryAfterOrServesUnderOnErrorAllow() async throws {
        let deny = try await Self.setup()
        defer { deny.loop.close() }
        deny.limiter.failure = .unavailable("connection refused")
        let refused = try Self.presign(deny)
        #expect(refused.status.code == 503)
        #expect(Fixture.text(refused) == Self.limiterUnavailable("unavailable"))
        #expect(Fixture.header(refused, "Retry-After") == "1")
        deny.limiter.failure = .timeout
        #expect(Fixture.text(try Self.presign(deny)) == Self.limiterUnavailable("timeout"))

        let allow = try await Self.setup(onError: "allow")
        defer { allow.loop.close() }
        allow.limiter.failure = .disconnected
        #expect(try Self.presign(allow).status.code == 200)
    }

    /// A limiter answer outside 0...cost, or a negative wait, is never a pass: 503 as a protocol failure.
    @Test func aLimiterThatLiesIsAnswered503() async throws {
        let s = try await Self.setup()
        defer { s.loop.close() }
        for lie in [GCRARateLimit.Decision(admitted: 5, retryAfterMillis: 0), GCRARateLimit.Decision(admitted: -1, retryAfterMillis: 0),
                    GCRARateLimit.Decision(admitted: 0, retryAfterMillis: -7)] {
            s.limiter.lie = lie
            let response = try Self.presign(s)
            #expect(response.status.code == 503)
            #expect(Fixture.text(response) == Self.limiterUnavailable("protocol"))
        }
    }
}
