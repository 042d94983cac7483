import Foundation
import HTTPServer
import JSONKit
import JWTKit
import PresignAPI
import PresignConfig
import S3Client
import Testing
import UVLoop

/// The documents presignd fetches for itself, through a `FakeFetcher` on a `DrivenLoop`: a `jwks_url` key set (found,
/// rotated, failing, hostile, stalled) and container credentials (fetched, rotated, failing until they run out).
/// The bodies are the ones `test_jwks.py` and `test_credentials_container.py` assert against real servers (which stay).
struct RemoteFetchRoutesTests {
    static let keysUnavailable = #"{"error":{"code":"KeysUnavailable","message":"the keys of issuer 'https://auth.example.com' have not been fetched from its jwks_url yet; retry"}}"#
    static let credentialsUnavailable = #"{"error":{"code":"CredentialsUnavailable","message":"backend 'main' has no usable credentials right now (they are being refreshed); retry later"}}"#

    static func service(_ yaml: String, fetcher: FakeFetcher, clock: Fixture.Clock) async throws -> PresignService {
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        return Fixture.service(config, clock: clock, fetcher: fetcher)
    }

    // MARK: jwks_url

    static func jwks(_ keys: [(ES256PrivateKey, String)]) -> FakeFetcher.Reply {
        let members = keys.map { key, kid in
            let p = key.publicKey.parameters!
            return #"{"kty":"EC","crv":"P-256","kid":"\#(kid)","alg":"ES256","x":"\#(p.x)","y":"\#(p.y)"}"#
        }
        return .json(#"{"keys":[\#(members.joined(separator: ","))]}"#, headers: [("Cache-Control", "max-age=600")])
    }

    struct JWKSSetup {
        /// Held: the routes hold their service weakly.
        let service: PresignService
        let fetcher: FakeFetcher
        let clock: Fixture.Clock
        let loop: DrivenLoop
        let client: InProcessClient
    }

    static func jwksSetup(_ replies: [FakeFetcher.Reply]) async throws -> JWKSSetup {
        let keys = try Fixture.makeKeys()
        let yaml = Fixture.yaml(jwksPath: keys.jwksPath)
            .replacingOccurrences(of: #"jwks_file: "\#(keys.jwksPath)""#, with: #"jwks_url: "https://auth.example.com/jwks""#)
        let fetcher = FakeFetcher(replies)
        let clock = Fixture.Clock()
        let service = try await Self.service(yaml, fetcher: fetcher, clock: clock)
        let loop = DrivenLoop()
        return JWKSSetup(service: service, fetcher: fetcher, clock: clock, loop: loop, client: InProcessClient(router: Router(service.endpoints()), loop: loop))
    }

    static func presignRequest(_ key: ES256PrivateKey, kid: String) async throws -> HTTPRequest {
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42"), key: key, kid: kid)
        return Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"uploads","key":"users/42/a.png"}"#,
                               headers: [("Authorization", "Bearer \(token)")])
    }

    @Test func aRemoteKeySetIsFetchedThroughTheFetcherAndItsRotationPickedUp() async throws {
        let old = ES256PrivateKey()
        let new = ES256PrivateKey()
        let s = try await Self.jwksSetup([Self.jwks([(old, "old-1")]), Self.jwks([(new, "new-1")])])
        defer { s.loop.close() }
        let first = try #require(await Driven.respond(s.client, try await Self.presignRequest(old, kid: "old-1")))
        #expect(first.status.code == 200)
        let asked = try #require(s.fetcher.requests.first)
        #expect((asked.method, asked.url, asked.maxBodyBytes) == ("GET", "https://auth.example.com/jwks", 65_536))
        #expect(asked.headers.map { "\($0.name): \($0.value)" } == ["Accept: application/json"])
        // The provider rotates: a token with the new kid makes one fetch inside the refetch window, then passes.
        s.clock.mono += 31_000_000_000
        let rotated = try #require(await Driven.respond(s.client, try await Self.presignRequest(new, kid: "new-1")))
        #expect(rotated.status.code == 200)
        #expect(s.fetcher.requests.count == 2)
        // The old key is gone: refused, and no fetch inside the window the rotation opened.
        let stale = try #require(await Driven.respond(s.client, try await Self.presignRequest(old, kid: "old-1")))
        #expect(stale.status.code == 401)
        #expect(Fixture.text(stale) == #"{"error":{"code":"Unauthorized","message":"invalid token: no key for this token's kid"}}"#)
        #expect(s.fetcher.requests.count == 2)
    }

    /// Refused, truncated JSON, a 500, a body over the bound: each is a failed fetch, and without keys the JWT
    /// callers get 503 KeysUnavailable (Retry-After: 1 until a fetch for an unknown kid opens the refetch window,
    /// then the window's rest), until a good document comes. `test_jwks.py` asserts the same against a real server.
    @Test func aFailingOrHostileFetchAnswers503KeysUnavailableUntilAGoodOne() async throws {
        let key = ES256PrivateKey()
        let big = FakeFetcher.Reply.answer(status: 200, headers: [], body: Array(repeating: UInt8(ascii: " "), count: 65_537))
        let replies: [FakeFetcher.Reply] = [.refused, .json(#"{"keys":[{"kty":"EC","#), .json("[]", status: 500), big, Self.jwks([(key, "k1")])]
        let s = try await Self.jwksSetup(replies)
        defer { s.loop.close() }
        func presign() async throws -> HTTPResponse {
            try #require(await Driven.respond(s.client, try await Self.presignRequest(key, kid: "k1")))
        }
        // (Retry-After, fetches so far) after each request; the clock moves past any retry backoff between rounds.
        var seen: [(String?, Int)] = []
        for advance in [false, false, false, true, true] {
            if advance { s.clock.mono += 400_000_000_000 }
            let refused = try await presign()
            #expect(refused.status.code == 503)
            #expect(Fixture.text(refused) == Self.keysUnavailable)
            seen.append((Fixture.header(refused, "Retry-After"), s.fetcher.requests.count))
        }
        // The first request waits for the start fetch; the second's unknown kid fetches once and opens the window,
        // which the third respects; later rounds fetch in the background once each.
        #expect(seen.map(\.0) == ["1", "30", "30", "1", "1"])
        #expect(seen.map(\.1) == [1, 2, 2, 3, 4])
        s.clock.mono += 400_000_000_000
        let accepted = try await presign()
        #expect(accepted.status.code == 200)
        #expect(s.fetcher.requests.count == 5)
    }

    /// A key set server that never answers holds its requests (one fetch for all of them); the transfer's timeout
    /// then answers them 503.
    @Test func aStalledFetchHoldsItsRequestsUntilItFails() async throws {
        let key = ES256PrivateKey()
        let s = try await Self.jwksSetup([.stall])
        defer { s.loop.close() }
        var answers: [InProcessClient.Answer] = []
        for _ in 0..<2 { s.client.start(try await Self.presignRequest(key, kid: "k1")) { answers.append($0) } }
        await Driven.run(s.loop, idleTurns: 20) { false }
        #expect(answers.isEmpty)
        #expect(s.fetcher.requests.count == 1 && s.fetcher.stalledCount == 1)
        s.fetcher.release(.transfer(CurlFailure(kind: .timeout, message: "Operation timed out", headersSent: false)))
        await Driven.run(s.loop) { answers.count == 2 }
        #expect(answers.map(\.response.status.code) == [503, 503])
        #expect(answers.allSatisfy { Fixture.text($0.response) == Self.keysUnavailable })
    }

    // MARK: container credentials

    static let credentialKey = "cred-key-0123456789"

    static func document(_ number: Int, expiresAt: Double) -> FakeFetcher.Reply {
        let expiration = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: expiresAt))
        return .json(#"{"AccessKeyId":"ASIAROT000\#(number)","SecretAccessKey":"secret-\#(number)","Token":"token-\#(number)","Expiration":"\#(expiration)"}"#)
    }

    /// The presign answer's status and, for a 200, the access key and token its URL was signed with.
    static func presign(_ service: PresignService) -> (Int, String?, String?) {
        let response = service.respond(Fixture.request(
            "POST", "/v1/presign", body: #"{"operation":"get","bucket":"b","key":"a"}"#, headers: [("Authorization", "Bearer \(credentialKey)")]))
        guard response.status.code == 200, case .string(let url)? = (try? JSONValue.parse(response.body))?["url"] else {
            return (response.status.code, nil, Fixture.text(response))
        }
        var query: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { query[item.name] = item.value }
        return (200, query["X-Amz-Credential"].map { String($0.prefix { $0 != "/" }) }, query["X-Amz-Security-Token"])
    }

    @Test func containerCredentialsAreFetchedRotatedAndRunOutTo503() async throws {
        let yaml = """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1,
                     credentials: {container_endpoint: "http://127.0.0.1:9/creds", refresh_margin_seconds: 300}}
            callers:
              - name: app
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex(Self.credentialKey))"}
                rules:
                  - {operations: [get], bucket: b, key: "*", max_expires_in: 3600}
            """
        let now = Fixture.now
        let fetcher = FakeFetcher([Self.document(1, expiresAt: now + 1800), Self.document(2, expiresAt: now + 3600), .refused])
        let clock = Fixture.Clock()
        let service = try await Self.service(yaml, fetcher: fetcher, clock: clock)
        let loop = DrivenLoop()
        defer { loop.close() }
        // No set yet: 503 until the refresher's first fetch answers.
        let before = service.respond(Fixture.request(
            "POST", "/v1/presign", body: #"{"operation":"get","bucket":"b","key":"a"}"#, headers: [("Authorization", "Bearer \(Self.credentialKey)")]))
        #expect(before.status.code == 503 && Fixture.text(before) == Self.credentialsUnavailable)
        #expect(Fixture.header(before, "Retry-After") == "5")
        service.startCredentialRefresh(on: loop.eventLoop, anyLoop: true)
        #expect(await Driven.run(loop) { Self.presign(service).0 == 200 })
        #expect(Self.presign(service).1 == "ASIAROT0001" && Self.presign(service).2 == "token-1")
        let asked = try #require(fetcher.requests.first)
        #expect((asked.method, asked.url, asked.maxBodyBytes) == ("GET", "http://127.0.0.1:9/creds", 64 * 1024))
        // One margin before expiry the refresher fetches the next set, which is used at once.
        clock.wall = now + 1500
        #expect(await Driven.run(loop) { Self.presign(service).1 == "ASIAROT0002" })
        #expect(Self.presign(service).2 == "token-2" && fetcher.requests.count == 2)
        // The endpoint fails from now on: the set serves until its margin, then 503.
        clock.wall = now + 3600 - 300 - 60
        #expect(await Driven.run(loop) { fetcher.requests.count == 3 })
        #expect(Self.presign(service).1 == "ASIAROT0002")
        clock.wall = now + 3600 - 300
        let after = Self.presign(service)
        #expect(after.0 == 503 && after.2 == Self.credentialsUnavailable)
    }
}
