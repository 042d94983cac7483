import Foundation
import HTTPServer
import JSONKit
import PresignAPI
import PresignConfig
import Testing

/// The limits of the anonymous link route and the live-link cap, through the service's own routes: exact 429
/// bodies and `Retry-After`, the trusted-proxy rule, and no use counted past a limit.
struct LinkLimitsRoutesTests {
    typealias L = LinkRoutesTests

    static func setup(_ extra: String) async throws -> L.Setup {
        let keys = try Fixture.makeKeys()
        let path = NSTemporaryDirectory() + "presignd-link-limits-\(UUID().uuidString).sqlite"
        let yaml = L.yaml(jwksPath: keys.jwksPath, sqlitePath: path).replacingOccurrences(of: "url_ttl: 60}", with: "url_ttl: 60, \(extra)}")
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        let clock = Fixture.Clock()
        let lines = Fixture.Lines()
        return L.Setup(service: Fixture.service(config, clock: clock, audit: lines), clock: clock, lines: lines, keys: keys, sqlitePath: path)
    }

    static func open(_ s: L.Setup, _ id: String, from peer: String = "192.0.2.7", forwardedFor: [String] = [], method: String = "GET") -> HTTPResponse {
        var request = Fixture.request(method, "/l/\(id)", headers: forwardedFor.map { ("X-Forwarded-For", $0) })
        request.clientAddress = peer
        return s.service.respond(request)
    }

    static func uses(_ s: L.Setup, _ id: String) -> String {
        guard case .integer(let uses)? = try? JSONValue.parse(s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: L.auth)).body)["uses"] else { return "?" }
        return String(uses)
    }

    static let addressLimited = #"{"error":{"code":"RateLimited","message":"too many requests for this client address; retry later"}}"#
    static let linkLimited = #"{"error":{"code":"RateLimited","message":"too many requests for this link; retry later"}}"#

    @Test func anAddressOverItsBurstIs429WithRetryAfterAndNoUseCounted() async throws {
        let s = try await Self.setup("rate_limit: {per_address: {per_second: 0.5, burst: 3}}")
        let id = L.id(L.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        for _ in 0..<3 { #expect(Self.open(s, id).status.code == 302) }
        let refused = Self.open(s, id)
        #expect(refused.status.code == 429)
        #expect(Fixture.text(refused) == Self.addressLimited)
        #expect(Fixture.header(refused, "Retry-After") == "2")
        #expect(Fixture.header(refused, "Cache-Control") == "no-store")
        // HEAD and unknown ids spend the same budget; a malformed id is refused before any of it.
        #expect(Self.open(s, id, method: "HEAD").status.code == 429)
        #expect(Self.open(s, String(repeating: "A", count: 32)).status.code == 429)
        #expect(Self.open(s, "short").status.code == 404)
        #expect(Self.uses(s, id) == "3")
        // Another address has its own budget; two seconds later this one has a token again.
        #expect(Self.open(s, id, from: "198.51.100.4").status.code == 302)
        s.clock.mono += 2_000_000_000
        #expect(Self.open(s, id).status.code == 302)
        #expect(Self.open(s, id).status.code == 429)
        #expect(Self.uses(s, id) == "5")
    }

    @Test func aLinkOverItsBurstIs429ForEveryAddress() async throws {
        let s = try await Self.setup("rate_limit: {per_link: {per_second: 0.25, burst: 2}}")
        let id = L.id(L.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        let other = L.id(L.create(s, #"{"bucket":"reports","key":"public/b"}"#).1)
        #expect(Self.open(s, id, from: "198.51.100.1").status.code == 302)
        #expect(Self.open(s, id, from: "198.51.100.2", method: "HEAD").status.code == 302)
        let refused = Self.open(s, id, from: "198.51.100.3")
        #expect(refused.status.code == 429)
        #expect(Fixture.text(refused) == Self.linkLimited)
        #expect(Fixture.header(refused, "Retry-After") == "4")
        #expect(Self.uses(s, id) == "1")
        #expect(Self.open(s, other, from: "198.51.100.3").status.code == 302)
        // Unknown ids never reach a link bucket.
        for _ in 0..<5 { #expect(Self.open(s, String(repeating: "B", count: 32), from: "198.51.100.9").status.code == 404) }
    }

    @Test func forwardedForCountsOnlyFromATrustedProxy() async throws {
        let s = try await Self.setup("rate_limit: {per_address: {per_second: 0.001, burst: 1}, trusted_proxies: [\"10.0.0.0/8\"]}")
        let id = L.id(L.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        // A spoofed header from an untrusted peer gets no fresh budget.
        #expect(Self.open(s, id, from: "203.0.113.5", forwardedFor: ["198.51.100.1"]).status.code == 302)
        #expect(Self.open(s, id, from: "203.0.113.5", forwardedFor: ["198.51.100.2"]).status.code == 429)
        // Through the proxy, each client has its own budget, whatever it puts left of the proxy's entry.
        #expect(Self.open(s, id, from: "10.1.1.1", forwardedFor: ["198.51.100.1"]).status.code == 302)
        #expect(Self.open(s, id, from: "10.2.2.2", forwardedFor: ["6.6.6.6, 198.51.100.1"]).status.code == 429)
        #expect(Self.open(s, id, from: "10.1.1.1", forwardedFor: ["198.51.100.2, 10.3.3.3"]).status.code == 302)
        // A malformed header counts against the proxy itself.
        #expect(Self.open(s, id, from: "10.1.1.1", forwardedFor: ["unknown"]).status.code == 302)
        #expect(Self.open(s, id, from: "10.1.1.1", forwardedFor: ["198.51.100.3:80"]).status.code == 429)
    }

    @Test func aCallerAtItsCapGets429TooManyLinksUntilOneIsRevokedOrUsedUp() async throws {
        let s = try await Self.setup("max_live_per_caller: 2")
        let first = L.id(L.create(s, #"{"bucket":"reports","key":"public/a","max_uses":1}"#).1)
        let second = L.id(L.create(s, #"{"bucket":"reports","key":"public/b"}"#).1)
        let (refused, _) = L.create(s, #"{"bucket":"reports","key":"public/c"}"#)
        #expect(refused.status.code == 429)
        #expect(Fixture.text(refused) == #"{"error":{"code":"TooManyLinks","message":"this caller already holds 2 live links (links.max_live_per_caller); revoke one or let one expire"}}"#)
        #expect(Fixture.header(refused, "Cache-Control") == "no-store")
        // Another caller is not affected.
        #expect(L.create(s, #"{"bucket":"reports","key":"x"}"#, headers: L.otherAuth).0.status.code == 201)
        #expect(Self.open(s, first).status.code == 302)
        #expect(L.create(s, #"{"bucket":"reports","key":"public/c"}"#).0.status.code == 201)
        #expect(L.create(s, #"{"bucket":"reports","key":"public/d"}"#).0.status.code == 429)
        #expect(s.service.respond(Fixture.request("DELETE", "/v1/links/\(second)", headers: L.auth)).status.code == 204)
        #expect(L.create(s, #"{"bucket":"reports","key":"public/d"}"#).0.status.code == 201)
        #expect(L.create(s, #"{"bucket":"reports","key":"public/e"}"#).0.status.code == 429)
    }
}
