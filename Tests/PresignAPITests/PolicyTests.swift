import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore

/// The policy engine with no sockets: for each condition one request that passes and one that fails,
/// and the key-escape cases.
struct PolicyTests {
    static func caller() async throws -> Caller {
        let config = try await Fixture.config(try Fixture.makeKeys())
        return config.callers.first { $0.name == "web" }!
    }

    static func put(_ key: String, type: String? = "image/png", length: Int64? = 10, expires: Int64 = 60,
                    bucket: String = "uploads", signature: SignatureVersion = .v4) -> PolicyAsk {
        PolicyAsk(operation: .sign(.put), backend: "main", bucket: bucket, key: key, expiresIn: expires,
                      signature: signature, contentType: type, contentLength: length)
    }

    static func reason(_ result: Result<PolicyRule, PolicyEngine.Denial>) -> String? {
        if case .failure(let denial) = result { return denial.reason }
        return nil
    }

    static func message(_ result: Result<PolicyRule, PolicyEngine.Denial>) -> String? {
        if case .failure(let denial) = result { return denial.message }
        return nil
    }

    let claims = ["sub": "42"]

    @Test func operationAllowedAndNot() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a.png"), caller: web, claims: claims)) == nil)
        var delete = Self.put("users/42/a.png")
        delete.operation = .sign(.delete)
        #expect(Self.message(PolicyEngine.evaluate(delete, caller: web, claims: claims))
                == "no rule of caller 'web' allows operation delete")
    }

    @Test func bucketAllowedAndNot() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a.png", bucket: "uploads"), caller: web, claims: claims)) == nil)
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a.png", bucket: "private"), caller: web, claims: claims))
                == "rule 1: bucket 'private' does not match 'uploads'")
    }

    @Test func keyPatternWithSubClaim() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/deep/a.png"), caller: web, claims: claims)) == nil)
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/43/a.png"), caller: web, claims: claims))
                == "rule 1: key 'users/43/a.png' does not match 'users/${sub}/*'")
        // The prefix alone, without the separator, is not inside the caller's folder.
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42"), caller: web, claims: claims)) == "key")
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/420/a.png"), caller: web, claims: claims)) == "key")
    }

    @Test func expiresAllowedAndNot() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a", expires: 600), caller: web, claims: claims)) == nil)
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a", expires: 601), caller: web, claims: claims))
                == "rule 1: expires_in 601 is over max_expires_in 600")
    }

    @Test func contentTypeAllowedMissingAndWrong() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a", type: "image/webp"), caller: web, claims: claims)) == nil)
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a", type: "text/html"), caller: web, claims: claims))
                == "rule 1: content_type 'text/html' is not one of image/*")
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a", type: nil), caller: web, claims: claims))
                == "rule 1: content_type is required (allowed: image/*)")
        // "image/" alone is not a type under image/*.
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a", type: "image/"), caller: web, claims: claims)) == "content_type")
    }

    @Test func contentLengthAllowedMissingAndOver() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a", length: 1000), caller: web, claims: claims)) == nil)
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a", length: 1001), caller: web, claims: claims))
                == "rule 1: content_length 1001 is over max_content_length 1000")
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a", length: nil), caller: web, claims: claims))
                == "rule 1: content_length is required (at most 1000)")
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42/a", signature: .s3fm), caller: web, claims: claims)) == "content_length")
    }

    @Test func postFormRangeAndTypePrefix() async throws {
        let web = try await Self.caller()
        var post = PolicyAsk(operation: .postForm, backend: "main", bucket: "uploads", key: "users/42/${filename}",
                                 expiresIn: 60, signature: .v4, contentType: "image/png", contentLengthRange: (1, 1000))
        #expect(Self.reason(PolicyEngine.evaluate(post, caller: web, claims: claims)) == nil)
        post.contentLengthRange = (1, 1001)
        #expect(Self.message(PolicyEngine.evaluate(post, caller: web, claims: claims))
                == "rule 1: content_length_range max 1001 is over max_content_length 1000")
        // Under image/*, no prefix is covered: starts-with "image/" also admits image/svg+xml.
        post.contentLengthRange = (1, 10)
        post.contentType = nil
        for prefix in ["im", "image/", "image/png"] {
            post.contentTypePrefix = prefix
            #expect(Self.message(PolicyEngine.evaluate(post, caller: web, claims: claims))
                    == "rule 1: content_type_prefix '\(prefix)' also admits script-capable types and lists of types; only */* covers a prefix, so give an exact content_type (allowed: image/*)")
        }
    }

    @Test func backendCondition() async throws {
        let config = try await ConfigLoader.load(yaml: """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
              cold: {endpoint: "http://127.0.0.1:8334", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
            callers:
              - {name: pinned, auth: {api_key_sha256: "\(String(repeating: "0", count: 64))"},
                 rules: [{operations: [get], bucket: "*", backend: main, max_expires_in: 60}]}
            """, secrets: SecretSource(environment: Fixture.environment))
        let pinned = config.callers[0]
        var get = PolicyAsk(operation: .sign(.get), backend: "main", bucket: "b", key: "k", expiresIn: 60, signature: .v4)
        #expect(Self.reason(PolicyEngine.evaluate(get, caller: pinned, claims: [:])) == nil)
        get.backend = "cold"
        #expect(Self.message(PolicyEngine.evaluate(get, caller: pinned, claims: [:])) == "rule 1: backend 'cold' is not 'main'")
    }

    @Test(arguments: [
        ("users/42/../43/x", "key contains a '..' segment"),
        ("users/42/..", "key contains a '..' segment"),
        ("../users/42/x", "key contains a '..' segment"),
        ("users/42/./a.png", "key contains a '.' segment"),
        ("./users/42/a.png", "key contains a '.' segment"),
        ("users/42/.", "key contains a '.' segment"),
        ("users/42/./../x", "key contains a '..' segment"),
        ("users/42/a\u{0}b", "key contains NUL or control characters"),
        ("users/42/a\nb", "key contains NUL or control characters"),
        ("users/42/a\u{7F}", "key contains NUL or control characters"),
        ("users/42/\u{FFFD}", "key is not valid UTF-8"),
        ("", "key must not be empty"),
    ])
    func keyEscapesAreDenied(_ key: String, _ message: String) async throws {
        let web = try await Self.caller()
        let result = PolicyEngine.evaluate(Self.put(key), caller: web, claims: claims)
        #expect(Self.message(result) == message)
        #expect(Self.reason(result) == "invalid_key")
    }

    @Test func emptySegmentsAreKeptAndAllowed() async throws {
        let web = try await Self.caller()
        #expect(Self.reason(PolicyEngine.evaluate(Self.put("users/42//a.png"), caller: web, claims: claims)) == nil)
    }

    @Test(arguments: ["42/../43", "42/x", "..", ".", "*", "", "4\u{1}2"])
    func unsafeSubClaimsNeverMatch(_ sub: String) async throws {
        let web = try await Self.caller()
        // Even a key built from the claim itself is refused: the claim cannot widen the pattern.
        let result = PolicyEngine.evaluate(Self.put("users/\(sub)/a.png"), caller: web, claims: ["sub": sub])
        #expect(Self.reason(result) != nil)
    }

    @Test func missingClaimIsDeniedByName() async throws {
        let web = try await Self.caller()
        #expect(Self.message(PolicyEngine.evaluate(Self.put("users/42/a"), caller: web, claims: [:]))
                == "rule 1: claim 'sub' is missing or unusable in 'users/${sub}/*'")
    }

    @Test func globMatching() throws {
        let p = try KeyPattern("a/*/c*")
        #expect(p.match("a/b/c", claims: [:]) == .matches)
        #expect(p.match("a/b/x/cdef", claims: [:]) == .matches)
        #expect(p.match("a/b/x", claims: [:]) == .noMatch)
        #expect(try KeyPattern("*").match("anything/at/all", claims: [:]) == .matches)
        #expect(try KeyPattern("exact").match("exact", claims: [:]) == .matches)
        #expect(try KeyPattern("exact").match("exactly", claims: [:]) == .noMatch)
        #expect(try KeyPattern("*.png").match("a/b.png", claims: [:]) == .matches)
        #expect(try KeyPattern("*.png").match("a/b.png.exe", claims: [:]) == .noMatch)
    }
}
