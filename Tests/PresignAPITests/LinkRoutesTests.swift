import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignAPI
import PresignConfig
import S3Signing
import Testing

/// Share links through the service's own routes, with a fake clock and a real SQLite file per test.
struct LinkRoutesTests {
    static let otherKey = "other-key-0123456789"
    static let auth = [("Authorization", "Bearer \(Fixture.apiKey)")]
    static let otherAuth = [("Authorization", "Bearer \(otherKey)")]

    static func yaml(jwksPath: String, sqlitePath: String, shareRule: Bool = true, links: Bool = true, shareMax: Int = 31536000) -> String {
        """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: batch
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(Fixture.apiKey))"}
            rules:
              - {operations: [get], bucket: reports, key: "*", max_expires_in: 3600}
        \(shareRule ? "      - {name: share, operations: [share_link], bucket: reports, key: \"public/*\", max_expires_in: \(shareMax)}" : "")
          - name: other
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(otherKey))"}
            rules:
              - {operations: [share_link], bucket: reports, key: "*", max_expires_in: 86400}
          - name: web
            auth: {jwt: {issuer: "https://auth.example.com", audience: uploads, jwks_file: "\(jwksPath)", leeway_seconds: 5}}
            rules:
              - {operations: [share_link], bucket: uploads, key: "users/${sub}/*", max_expires_in: 604800}
        \(links ? "links: {public_base_url: \"https://share.example.com/\", sqlite_path: \"\(sqlitePath)\", url_ttl: 60}" : "")
        """
    }

    struct Setup {
        let service: PresignService
        let clock: Fixture.Clock
        let lines: Fixture.Lines
        let keys: Fixture.Keys
        let sqlitePath: String
    }

    static func setup(shareRule: Bool = true, links: Bool = true, sqlitePath: String? = nil) async throws -> Setup {
        let keys = try Fixture.makeKeys()
        let path = sqlitePath ?? NSTemporaryDirectory() + "presignd-link-routes-\(UUID().uuidString).sqlite"
        let config = try await ConfigLoader.load(
            yaml: yaml(jwksPath: keys.jwksPath, sqlitePath: path, shareRule: shareRule, links: links),
            secrets: SecretSource(environment: Fixture.environment))
        let clock = Fixture.Clock()
        let lines = Fixture.Lines()
        return Setup(service: Fixture.service(config, clock: clock, audit: lines), clock: clock, lines: lines, keys: keys, sqlitePath: path)
    }

    static func create(_ s: Setup, _ body: String, headers: [(String, String)] = auth) -> (HTTPResponse, JSONValue?) {
        let response = s.service.respond(Fixture.request("POST", "/v1/links", body: body, headers: headers))
        return (response, try? JSONValue.parse(response.body))
    }

    static func id(_ answer: JSONValue?) -> String {
        guard case .string(let id)? = answer?["id"] else { return "" }
        return id
    }

    static func open(_ s: Setup, _ id: String, method: String = "GET") -> HTTPResponse {
        s.service.respond(Fixture.request(method, "/l/\(id)"))
    }

    static func query(_ url: String) -> [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { out[item.name] = item.value }
        return out
    }

    @Test func createThenRedirectToAFreshShortGETWithTheStoredOverrides() async throws {
        let s = try await Self.setup()
        let (created, answer) = Self.create(s, #"{"bucket":"reports","key":"public/q3.pdf","expires_in":2592000,"max_uses":5,"response":{"content_disposition":"attachment; filename=\"q3.pdf\""}}"#)
        #expect(created.status.code == 201)
        let id = Self.id(answer)
        #expect(id.utf8.count == 32)
        #expect(Fixture.text(created) == #"{"id":"\#(id)","url":"https://share.example.com/l/\#(id)","expires_at":"2026-12-18T11:06:40Z","max_uses":5}"#)
        #expect(Fixture.header(created, "Cache-Control") == "no-store")

        let redirect = Self.open(s, id)
        #expect(redirect.status.code == 302)
        #expect(redirect.body.isEmpty)
        #expect(Fixture.header(redirect, "Cache-Control") == "no-store")
        #expect(Fixture.header(redirect, "Referrer-Policy") == "no-referrer")
        let location = try #require(Fixture.header(redirect, "Location"))
        // The same URL the presign API would sign for a 60-second GET with that override, at the same instant.
        let presign = s.service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"public/q3.pdf","expires_in":60,"response":{"content_disposition":"attachment; filename=\"q3.pdf\""}}"#, headers: Self.auth))
        guard case .string(let expected)? = try JSONValue.parse(presign.body)["url"] else { Issue.record("presign failed: \(Fixture.text(presign))"); return }
        #expect(location == expected)
        #expect(Self.query(location)["X-Amz-Expires"] == "60")
        #expect(Self.query(location)["response-content-disposition"] == #"attachment; filename="q3.pdf""#)

        let info = s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: Self.auth))
        #expect(Fixture.text(info) == #"{"id":"\#(id)","backend":"main","bucket":"reports","key":"public/q3.pdf","created_at":"2026-11-18T11:06:40Z","expires_at":"2026-12-18T11:06:40Z","max_uses":5,"uses":1,"revoked":false,"state":"active"}"#)
    }

    @Test func headRedirectsToAPresignedHEADWithoutSpendingAUse() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a","max_uses":1}"#).1)
        let head = Self.open(s, id, method: "HEAD")
        #expect(head.status.code == 302)
        let location = try #require(Fixture.header(head, "Location"))
        let presign = s.service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"public/a","expires_in":60}"#, headers: Self.auth))
        guard case .string(let getURL)? = try JSONValue.parse(presign.body)["url"] else { Issue.record("presign failed"); return }
        #expect(location != getURL, "a HEAD link must not hand out a GET signature")
        #expect(Self.open(s, id).status.code == 302)
        #expect(Fixture.text(Self.open(s, id)) == #"{"error":{"code":"LinkUsedUp","message":"this link has been used as many times as it allows"}}"#)
    }

    @Test func usesAreCountedAndTheLimitHolds() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a","max_uses":2}"#).1)
        #expect(Self.open(s, id).status.code == 302)
        #expect(Self.open(s, id).status.code == 302)
        let third = Self.open(s, id)
        #expect(third.status.code == 410)
        #expect(Fixture.text(third) == #"{"error":{"code":"LinkUsedUp","message":"this link has been used as many times as it allows"}}"#)
        #expect(Fixture.header(third, "Cache-Control") == "no-store")
    }

    @Test func revokeIsImmediateAndOnlyTheOwnerMayReadOrRevoke() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        let notFound = #"{"error":{"code":"LinkNotFound","message":"no such link"}}"#
        let peek = s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: Self.otherAuth))
        #expect(peek.status.code == 404 && Fixture.text(peek) == notFound)
        let steal = s.service.respond(Fixture.request("DELETE", "/v1/links/\(id)", headers: Self.otherAuth))
        #expect(steal.status.code == 404 && Fixture.text(steal) == notFound)
        #expect(Self.open(s, id).status.code == 302)
        let revoke = s.service.respond(Fixture.request("DELETE", "/v1/links/\(id)", headers: Self.auth))
        #expect(revoke.status.code == 204 && revoke.body.isEmpty)
        let after = Self.open(s, id)
        #expect(after.status.code == 410)
        #expect(Fixture.text(after) == #"{"error":{"code":"LinkRevoked","message":"this link was revoked"}}"#)
        let info = s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: Self.auth))
        #expect(Fixture.text(info).contains(#""uses":1,"revoked":true,"state":"revoked"}"#))
    }

    @Test func aJWTLinkBelongsToItsSubjectAlone() async throws {
        let s = try await Self.setup()
        let alice = try await Fixture.es256Token(Fixture.claims(sub: "alice"), key: s.keys.es256)
        let bob = try await Fixture.es256Token(Fixture.claims(sub: "bob"), key: s.keys.es256)
        let (created, answer) = Self.create(s, #"{"bucket":"uploads","key":"users/alice/cat.png"}"#, headers: [("Authorization", "Bearer \(alice)")])
        #expect(created.status.code == 201)
        let denied = Self.create(s, #"{"bucket":"uploads","key":"users/alice/cat.png"}"#, headers: [("Authorization", "Bearer \(bob)")]).0
        #expect(denied.status.code == 403)
        let id = Self.id(answer)
        #expect(s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: [("Authorization", "Bearer \(bob)")])).status.code == 404)
        #expect(s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: [("Authorization", "Bearer \(alice)")])).status.code == 200)
        // At use time the stored claims stand in for the token: `${sub}` still resolves.
        #expect(Self.open(s, id).status.code == 302)
    }

    @Test func expiryFollowsTheClockAndTheRedirectNeverOutlivesTheLink() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a","expires_in":2592000}"#).1)
        s.clock.wall = Fixture.now + 29 * 86_400
        let day29 = Self.open(s, id)
        #expect(day29.status.code == 302)
        #expect(Self.query(Fixture.header(day29, "Location") ?? "")["X-Amz-Expires"] == "60")
        s.clock.wall = Fixture.now + 2_592_000 - 10
        #expect(Self.query(Fixture.header(Self.open(s, id), "Location") ?? "")["X-Amz-Expires"] == "10")
        s.clock.wall = Fixture.now + 2_592_000
        let expired = Self.open(s, id)
        #expect(expired.status.code == 410)
        #expect(Fixture.text(expired) == #"{"error":{"code":"LinkExpired","message":"this link has expired"}}"#)
    }

    @Test func theDefaultLifetimeIsADayWithinTheRule() async throws {
        let s = try await Self.setup()
        let answer = Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).1
        #expect(answer?["expires_at"] == .string("2026-11-19T11:06:40Z"))
        #expect(answer?["max_uses"] == .null)
    }
}
