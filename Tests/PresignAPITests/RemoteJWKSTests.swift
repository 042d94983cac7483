import Foundation
import HTTPServer
import JWTKit
import PresignAPI
import PresignConfig
import PresignRuntime
import Testing

/// `jwt.jwks_url` through the service without sockets: before any fetch its tokens get 503 KeysUnavailable (the
/// in-process client has no loop, so nothing fetches), on the guarded routes and the batch; and which keys of a
/// fetched set are taken.
struct RemoteJWKSTests {
    static func service() async throws -> PresignService {
        let keys = try Fixture.makeKeys()
        let yaml = Fixture.yaml(jwksPath: keys.jwksPath)
            .replacingOccurrences(of: #"jwks_file: "\#(keys.jwksPath)""#, with: #"jwks_url: "https://auth.example.com/jwks""#)
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        return Fixture.service(config)
    }

    static func token() async throws -> String {
        let claims = Fixture.Claims(
            sub: "42", iss: "https://auth.example.com", aud: "uploads", exp: .init(value: Date(timeIntervalSince1970: Fixture.now + 60)))
        return try await Fixture.es256Token(claims, key: ES256PrivateKey())
    }

    static let unavailable = #"{"error":{"code":"KeysUnavailable","message":"the keys of issuer 'https://auth.example.com' have not been fetched from its jwks_url yet; retry"}}"#

    @Test func beforeTheFirstFetchAJWTGets503KeysUnavailableWithRetryAfter() async throws {
        let service = try await Self.service()
        let token = try await Self.token()
        let body = #"{"operation":"get","bucket":"uploads","key":"users/42/a.png"}"#
        let response = service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: [("Authorization", "Bearer \(token)")]))
        #expect(response.status.code == 503)
        #expect(Fixture.header(response, "Retry-After") == "1")
        #expect(Fixture.text(response) == Self.unavailable)
        let batch = service.respond(Fixture.request(
            "POST", "/v1/presign/batch", body: #"{"requests":[\#(body)]}"#, headers: [("Authorization", "Bearer \(token)")]))
        #expect(batch.status.code == 503)
        #expect(Fixture.text(batch) == Self.unavailable)
        // Other callers are not affected.
        let apiKey = service.respond(Fixture.request(
            "POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"a"}"#, headers: [("Authorization", "Bearer \(Fixture.apiKey)")]))
        #expect(apiKey.status.code == 200)
    }

    @Test func onlyRS256AndP256KeysWithAKidAreTaken() async throws {
        let p256 = ES256PrivateKey().publicKey.parameters!
        let p384 = ES384PrivateKey().publicKey.parameters!
        let document = #"""
            {"keys":[
             {"kty":"EC","crv":"P-256","kid":"ec","x":"\#(p256.x)","y":"\#(p256.y)"},
             {"kty":"EC","crv":"P-384","kid":"p384","alg":"ES384","x":"\#(p384.x)","y":"\#(p384.y)"},
             {"kty":"EC","crv":"P-256","x":"\#(p256.x)","y":"\#(p256.y)"},
             {"kty":"RSA","kid":"enc","alg":"RSA-OAEP","use":"enc","n":"sXch","e":"AQAB"}
            ]}
            """#
        let jwks = try JWKSSchedule.document(status: 200, body: Array(document.utf8)).get()
        #expect(jwks.count == 4)
        let (set, skipped) = await JWTAuth.keySet(from: jwks)
        #expect(set.keys.keys.sorted() == ["ec"])
        #expect(set.defaultKey?.name == "ES256")
        #expect(skipped == [
            "key 'p384': alg ES384 (only RS256 and ES256 are used)", "key 2 has no kid",
            "key 'enc': alg RSA-OAEP (only RS256 and ES256 are used)",
        ])
    }
}
