import PresignConfig
import Testing

/// `jwt.jwks_url` in the config: one key source only, https or loopback http, and its errors by path.
struct JWKSConfigTests {
    static let auth = #"auth: {api_key_sha256: "\#(ConfigLoaderTests.digest)"}"#

    static func jwt(_ fields: String) -> String {
        ConfigLoaderTests.valid(replacing: auth, with: "auth: {jwt: {issuer: \"https://id.example.com/\", audience: app, \(fields)}}")
    }

    @Test func aJWKSURLLoadsWithNoKeysResolvedAtLoad() async throws {
        let config = try await ConfigLoader.load(
            yaml: Self.jwt(#"jwks_url: "https://id.example.com/.well-known/jwks.json""#),
            secrets: SecretSource(environment: ConfigLoaderTests.environment))
        guard case .jwt(let verifier) = config.callers[0].auth else {
            Issue.record("not a JWT caller")
            return
        }
        #expect(verifier.jwksURL == "https://id.example.com/.well-known/jwks.json")
        #expect(verifier.issuer == "https://id.example.com/")
    }

    @Test func aJWKSURLWithAnotherKeySourceIsRefused() async {
        let both = Self.jwt(#"jwks_url: "https://id.example.com/jwks", jwks_file: /etc/jwks.json"#)
        #expect(await ConfigLoaderTests.error(both)
            == "callers[0].auth.jwt: give exactly one of jwks_url, jwks_file or hs256_secret_env/hs256_secret_file")
        let secret = Self.jwt(#"jwks_url: "https://id.example.com/jwks", hs256_secret_env: S3_SECRET_KEY"#)
        #expect(await ConfigLoaderTests.error(secret)
            == "callers[0].auth.jwt: give exactly one of jwks_url, jwks_file or hs256_secret_env/hs256_secret_file")
        #expect(await ConfigLoaderTests.error(Self.jwt("leeway_seconds: 5"))
            == "callers[0].auth.jwt: give exactly one of jwks_url, jwks_file or hs256_secret_env/hs256_secret_file")
    }

    @Test func aJWKSURLMustBeHTTPSOrLoopbackHTTP() async {
        #expect(await ConfigLoaderTests.error(Self.jwt(#"jwks_url: "http://id.example.com/jwks""#))
            == "callers[0].auth.jwt.jwks_url: http:// is allowed only for a loopback host (127.0.0.0/8, ::1, localhost); use https://")
        #expect(await ConfigLoaderTests.error(Self.jwt(#"jwks_url: "file:///etc/jwks.json""#))
            == "callers[0].auth.jwt.jwks_url: must be an absolute https:// URL; got 'file:///etc/jwks.json'")
        #expect(await ConfigLoaderTests.error(Self.jwt(#"jwks_url: "ftp://id.example.com/jwks""#))
            == "callers[0].auth.jwt.jwks_url: must be an https:// URL; got scheme 'ftp'")
        #expect(await ConfigLoaderTests.error(Self.jwt(#"jwks_url: "http://127.0.0.1:9/jwks""#)) == nil)
    }

    @Test func jwksURLsAreHTTPSOrLoopbackHTTP() {
        #expect(JWTAuth.checkJWKSURL("https://example.auth0.com/.well-known/jwks.json") == nil)
        #expect(JWTAuth.checkJWKSURL("http://127.0.0.1:8099/jwks") == nil)
        #expect(JWTAuth.checkJWKSURL("http://localhost/jwks") == nil)
        #expect(JWTAuth.checkJWKSURL("http://[::1]:80/jwks") == nil)
        #expect(JWTAuth.checkJWKSURL("http://auth.example.com/jwks")
            == "http:// is allowed only for a loopback host (127.0.0.0/8, ::1, localhost); use https://")
        #expect(JWTAuth.checkJWKSURL("http://127.0.0.1.evil.com/jwks") != nil)
        #expect(JWTAuth.checkJWKSURL("ftp://example.com/jwks") == "must be an https:// URL; got scheme 'ftp'")
        #expect(JWTAuth.checkJWKSURL("/etc/jwks.json") == "must be an absolute https:// URL; got '/etc/jwks.json'")
        #expect(JWTAuth.checkJWKSURL("https://user:pw@example.com/jwks") == "must not carry a user or password")
    }
}
