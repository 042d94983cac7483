import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignAPI
import PresignConfig
import S3Signing
import Testing

/// Links against policy changes, a new service, bad and unknown ids, the audit log, a broken store and links
/// switched off.
extension LinkRoutesTests {
    @Test func aLinkObeysTodaysPolicy() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        let stricter = try await ConfigLoader.load(
            yaml: Self.yaml(jwksPath: s.keys.jwksPath, sqlitePath: s.sqlitePath, shareRule: false),
            secrets: SecretSource(environment: Fixture.environment))
        s.service.replace(stricter)
        let gone = Self.open(s, id)
        #expect(gone.status.code == 410)
        #expect(Fixture.text(gone) == #"{"error":{"code":"LinkNotAllowed","message":"this link is no longer allowed by policy"}}"#)
        s.service.replace(try await ConfigLoader.load(
            yaml: Self.yaml(jwksPath: s.keys.jwksPath, sqlitePath: s.sqlitePath), secrets: SecretSource(environment: Fixture.environment)))
        #expect(Self.open(s, id).status.code == 302)
    }

    /// A rule whose max_expires_in shrinks below a link's granted lifetime withdraws the link: the grant is
    /// checked at every use as it was made, not as "any lifetime".
    @Test func aShorterMaxExpiresInWithdrawsLongerLinks() async throws {
        let s = try await Self.setup()
        let long = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a","expires_in":2592000}"#).1)
        let short = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a","expires_in":3600}"#).1)
        s.service.replace(try await ConfigLoader.load(
            yaml: Self.yaml(jwksPath: s.keys.jwksPath, sqlitePath: s.sqlitePath, shareMax: 86400),
            secrets: SecretSource(environment: Fixture.environment)))
        #expect(Fixture.text(Self.open(s, long)) == #"{"error":{"code":"LinkNotAllowed","message":"this link is no longer allowed by policy"}}"#)
        #expect(Self.open(s, short).status.code == 302)
    }

    @Test func linksSurviveANewServiceOnTheSameFile() async throws {
        let first = try await Self.setup()
        let id = Self.id(Self.create(first, #"{"bucket":"reports","key":"public/a","max_uses":3}"#).1)
        #expect(Self.open(first, id).status.code == 302)
        let second = try await Self.setup(sqlitePath: first.sqlitePath)
        #expect(Self.open(second, id).status.code == 302)
        let info = second.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: Self.auth))
        #expect(Fixture.text(info).contains(#""max_uses":3,"uses":2,"#))
    }

    @Test func badRequestsAreRefusedWithTheFieldAtFault() async throws {
        let s = try await Self.setup()
        let cases: [(String, Int, String)] = [
            (#"{"bucket":"reports","key":"public/a","max_uses":0}"#, 400, #"{"error":{"code":"InvalidRequest","message":"max_uses: must be an integer from 1 to 1000000","field":"max_uses"}}"#),
            (#"{"bucket":"reports","key":"public/a","max_uses":-1}"#, 400, #"{"error":{"code":"InvalidRequest","message":"max_uses: must be an integer from 1 to 1000000","field":"max_uses"}}"#),
            (#"{"bucket":"reports","key":"public/a","max_uses":1000001}"#, 400, #"{"error":{"code":"InvalidRequest","message":"max_uses: must be an integer from 1 to 1000000","field":"max_uses"}}"#),
            (#"{"bucket":"reports","key":"public/a","max_uses":"3"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"max_uses: must be an integer from 1 to 1000000","field":"max_uses"}}"#),
            (#"{"bucket":"reports","key":"public/a","operation":"get"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"operation: unknown field","field":"operation"}}"#),
            (#"{"bucket":"reports","key":"public/a","expires_in":31536001}"#, 400, #"{"error":{"code":"InvalidRequest","message":"expires_in: must be 1...31536000 seconds (SigV4 allows at most 604800)","field":"expires_in"}}"#),
            (#"{"bucket":"reports"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"key: is required","field":"key"}}"#),
            (#"{"bucket":"reports","key":"public/a","response":{"content_type":"text/html"}}"#, 403, #"{"error":{"code":"PolicyDenied","message":"rule 2 'share': response.content_type 'text/html' can run script; list it in the rule's content_types to allow it"}}"#),
            (#"{"bucket":"reports","key":"private/a"}"#, 403, #"{"error":{"code":"PolicyDenied","message":"rule 2 'share': key 'private/a' does not match 'public/*'"}}"#),
            (#"{"bucket":"reports","key":"public/../private/a"}"#, 403, #"{"error":{"code":"PolicyDenied","message":"key contains a '..' segment"}}"#),
        ]
        for (body, status, answer) in cases {
            let response = Self.create(s, body).0
            #expect(response.status.code == status, "\(body)")
            #expect(Fixture.text(response) == answer, "\(body)")
        }
        // Over the rule's cap (the other caller's share_link rule allows one day).
        let over = Self.create(s, #"{"bucket":"reports","key":"public/a","expires_in":86401}"#, headers: Self.otherAuth).0
        #expect(over.status.code == 403)
        #expect(Fixture.text(over) == #"{"error":{"code":"PolicyDenied","message":"rule 1: expires_in 86401 is over max_expires_in 86400"}}"#)
    }

    @Test func malformedAndUnknownIdsAreTheSame404() async throws {
        let s = try await Self.setup()
        let answer = #"{"error":{"code":"LinkNotFound","message":"no such link"}}"#
        var rng = SystemRandomNumberGenerator()
        var ids = ["x", String(repeating: "A", count: 31), String(repeating: "A", count: 33), String(repeating: "A", count: 31) + "%2B",
                   String(repeating: "A", count: 31) + "=", "%00" + String(repeating: "A", count: 31), String(repeating: "A", count: 5000),
                   "';DROP%20TABLE%20links;--" + String(repeating: "A", count: 7), String(repeating: "A", count: 32)]
        for _ in 0..<200 { ids.append(String((0..<Int.random(in: 1...64, using: &rng)).map { _ in "Aa0-_~.%!*'()".randomElement(using: &rng)! })) }
        for id in ids {
            let response = Self.open(s, id)
            if response.status.code == 400 { continue }  // not valid percent-encoding: the router's own answer
            #expect(response.status.code == 404, "\(id)")
            #expect(Fixture.text(response) == answer, "\(id)")
        }
        // The store still works after all of that.
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        #expect(Self.open(s, id).status.code == 302)
    }

    @Test func theAuditLogCarriesOnlyAPrefixOfTheId() async throws {
        let s = try await Self.setup()
        let id = Self.id(Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).1)
        _ = Self.open(s, id)
        _ = s.service.respond(Fixture.request("DELETE", "/v1/links/\(id)", headers: Self.auth))
        let lines = s.lines.all
        #expect(!lines.contains { $0.contains(id) })
        let prefix = String(id.prefix(8))
        #expect(lines.contains(#"{"audit":"link_use","time":"2026-11-18T11:06:40Z","request_id":"req-1","link":"\#(prefix)","caller":"batch","backend":"main","bucket":"reports","key":"public/a","use":1,"expires_at":"2026-11-19T11:06:40Z","client_ip":"192.0.2.7"}"#))
        #expect(lines.contains { $0.hasPrefix(#"{"audit":"link_create""#) && $0.contains(#""link":"\#(prefix)""#) })
        #expect(lines.contains { $0.hasPrefix(#"{"audit":"link_revoke""#) })
    }

    @Test func anUnusableStoreIs503AndPresignKeepsWorking() async throws {
        let dir = NSTemporaryDirectory() + "presignd-link-dir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let s = try await Self.setup(sqlitePath: dir)
        let create = Self.create(s, #"{"bucket":"reports","key":"public/a"}"#).0
        #expect(create.status.code == 503)
        #expect(Fixture.header(create, "Retry-After") == "1")
        #expect(Fixture.text(create) == #"{"error":{"code":"LinkStoreUnavailable","message":"the link store is unavailable; retry later"}}"#)
        #expect(Self.open(s, String(repeating: "A", count: 32)).status.code == 503)
        #expect(s.lines.all.contains { $0.hasPrefix("share links (SQLite \(dir)): cannot open link database \(dir)") })
        let presign = s.service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"a"}"#, headers: Self.auth))
        #expect(presign.status.code == 200)
    }

    @Test func withoutLinksEveryLinkRouteIs404LinksDisabled() async throws {
        let s = try await Self.setup(links: false)
        let disabled = #"{"error":{"code":"LinksDisabled","message":"share links are not configured on this server"}}"#
        for (method, path, body) in [("POST", "/v1/links", "{}"), ("GET", "/v1/links/x", ""), ("DELETE", "/v1/links/x", ""), ("GET", "/l/x", "")] {
            let response = s.service.respond(Fixture.request(method, path, body: body, headers: Self.auth))
            #expect(response.status.code == 404, "\(method) \(path)")
            #expect(Fixture.text(response) == disabled, "\(method) \(path)")
        }
        // Credentials are still checked first on the authenticated routes.
        #expect(s.service.respond(Fixture.request("POST", "/v1/links", body: "{}")).status.code == 401)
    }

    @Test func shareLinkIsNotAPresignOperation() async throws {
        let s = try await Self.setup()
        let response = s.service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"share_link","bucket":"reports","key":"public/a"}"#, headers: Self.auth))
        #expect(Fixture.text(response) == #"{"error":{"code":"InvalidRequest","message":"operation: share_link is not a presigned URL: create a link with POST /v1/links","field":"operation"}}"#)
    }
}
