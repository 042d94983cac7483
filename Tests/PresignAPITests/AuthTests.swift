import Foundation
import HTTPServer
import JWTKit
import PresignAPI
import PresignConfig
import Testing

/// Caller auth through the service: API keys and JWTs, each failure answered 401 with a challenge.
struct AuthTests {
    static let body = #"{"operation":"get","bucket":"uploads","key":"users/42/a.png"}"#

    static func call(_ service: PresignService, token: String?) -> HTTPResponse {
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: headers))
    }

    @Test func missingCredentialsGet401WithChallenge() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let response = Self.call(service, token: nil)
        #expect(response.status.code == 401)
        #expect(Fixture.header(response, "WWW-Authenticate") == #"Bearer realm="presignd""#)
        #expect(Fixture.text(response) == #"{"error":{"code":"Unauthorized","message":"missing Authorization: Bearer credentials"}}"#)
    }

    @Test func wrongAPIKeyGets401() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let response = Self.call(service, token: "test-key-0123456788")
        #expect(response.status.code == 401)
        #expect(Fixture.header(response, "WWW-Authenticate") == #"Bearer realm="presignd", error="invalid_token""#)
        #expect(Fixture.text(response) == #"{"error":{"code":"Unauthorized","message":"unknown API key"}}"#)
    }

    @Test func basicAuthIsNotBearer() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let response = service.respond(Fixture.request("POST", "/v1/presign", body: Self.body, headers: [("Authorization", "Basic YTpi")]))
        #expect(response.status.code == 401)
    }

    @Test func validES256TokenIsAccepted() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42"), key: keys.es256)
        let response = Self.call(service, token: token)
        #expect(response.status.code == 200, "\(Fixture.text(response))")
    }

    @Test func validHS256TokenIsAccepted() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let token = try await Fixture.hs256Token(Fixture.claims(sub: "7", iss: "https://hs.example.com", aud: "app"))
        let response = service.respond(Fixture.request("POST", "/v1/presign",
            body: #"{"operation":"get","bucket":"any","key":"shared/x","expires_in":60}"#, headers: [("Authorization", "Bearer \(token)")]))
        #expect(response.status.code == 200, "\(Fixture.text(response))")
    }

    static func rejection(_ service: PresignService, _ token: String) -> String {
        let response = call(service, token: token)
        #expect(response.status.code == 401)
        #expect(Fixture.header(response, "WWW-Authenticate") == #"Bearer realm="presignd", error="invalid_token""#)
        return Fixture.text(response)
    }

    @Test func expiredTokenIsRejectedBeyondLeeway() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        // Leeway is 5 s in the fixture: 3 s past exp passes, 6 s past does not.
        let within = try await Fixture.es256Token(Fixture.claims(sub: "42", exp: Fixture.now - 3), key: keys.es256)
        #expect(Self.call(service, token: within).status.code == 200)
        let expired = try await Fixture.es256Token(Fixture.claims(sub: "42", exp: Fixture.now - 6), key: keys.es256)
        #expect(Self.rejection(service, expired) == #"{"error":{"code":"Unauthorized","message":"invalid token: token expired"}}"#)
    }

    @Test func notYetValidTokenIsRejected() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let early = try await Fixture.es256Token(Fixture.claims(sub: "42", nbf: Fixture.now + 60), key: keys.es256)
        #expect(Self.rejection(service, early) == #"{"error":{"code":"Unauthorized","message":"invalid token: token not valid yet (nbf)"}}"#)
    }

    @Test func wrongAudienceIsRejected() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42", aud: "billing"), key: keys.es256)
        #expect(Self.rejection(service, token) == #"{"error":{"code":"Unauthorized","message":"invalid token: wrong audience"}}"#)
    }

    @Test func wrongSignatureIsRejected() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let other = ES256PrivateKey()
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42"), key: other)
        #expect(Self.rejection(service, token) == #"{"error":{"code":"Unauthorized","message":"invalid token: bad signature"}}"#)
        // And a valid token with one payload character changed.
        let good = try await Fixture.es256Token(Fixture.claims(sub: "42"), key: keys.es256)
        var parts = good.split(separator: ".").map(String.init)
        parts[1] = Fixture.base64URL(#"{"sub":"43","iss":"https://auth.example.com","aud":["uploads"],"exp":\#(Int(Fixture.now) + 300)}"#)
        #expect(Self.rejection(service, parts.joined(separator: ".")).contains("bad signature"))
    }

    @Test func algNoneIsRejected() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let header = Fixture.base64URL(#"{"alg":"none","typ":"JWT","kid":"k1"}"#)
        let payload = Fixture.base64URL(#"{"sub":"42","iss":"https://auth.example.com","aud":"uploads","exp":\#(Int(Fixture.now) + 300)}"#)
        #expect(Self.rejection(service, "\(header).\(payload).") == #"{"error":{"code":"Unauthorized","message":"invalid token: token is not signed (alg none)"}}"#)
    }

    @Test func hs256TokenAgainstTheES256KeyIsRejected() async throws {
        // Algorithm confusion: a token claiming HS256 for the EC key's kid.
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: Array("whatever-secret-0123456789abcdef".utf8)), digestAlgorithm: .sha256, kid: "k1")
        let token = try await collection.sign(Fixture.claims(sub: "42"), kid: "k1")
        #expect(Self.rejection(service, token) == #"{"error":{"code":"Unauthorized","message":"invalid token: token alg HS256 does not match the key (ES256)"}}"#)
    }

    @Test func unknownIssuerIsRejected() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42", iss: "https://evil.example.com"), key: keys.es256)
        #expect(Self.rejection(service, token) == #"{"error":{"code":"Unauthorized","message":"invalid token: no caller accepts tokens from this issuer"}}"#)
    }
}
