import PresignCore
import S3Signing
import Testing

/// The policy engine with no sockets: for each condition one request that passes and one that fails,
/// and the key-escape cases. Intents are built as the routes decode them; the rules are the API tests' `web`
/// caller's (`Fixture.yaml` in PresignAPITests), built directly.
struct PolicyTests {
    /// `web`: `{operations: [put, post_object], bucket: uploads, key: "users/${sub}/*", max_expires_in: 600,
    /// content_types: ["image/*"], max_content_length: 1000}` and `{operations: [get], bucket: uploads,
    /// key: "users/${sub}/*", max_expires_in: 3600}`.
    static func webRules() throws -> [PolicyRule] {
        [
            PolicyRule(number: 1, name: nil, operations: [.sign(.put), .postForm], bucket: try KeyPattern("uploads"),
                       key: try KeyPattern("users/${sub}/*"), backend: nil, maxExpiresIn: 600, contentTypes: ["image/*"],
                       maxContentLength: 1000),
            PolicyRule(number: 2, name: nil, operations: [.sign(.get)], bucket: try KeyPattern("uploads"),
                       key: try KeyPattern("users/${sub}/*"), backend: nil, maxExpiresIn: 3600, contentTypes: nil,
                       maxContentLength: nil),
        ]
    }

    /// `intent` asked of `rules` (caller `name`) on a backend `backend` that signs with `signature`.
    static func evaluate(
        _ intent: Intent, _ rules: [PolicyRule], name: String = "web", claims: [String: String],
        backend: String = "main", signature: SignatureVersion = .v4
    ) -> Result<Grant, PolicyEngine.Denial> {
        PolicyEngine.evaluate(intent, Principal(name: name, rules: rules, claims: claims),
                              backend: .init(name: backend, signature: signature))
    }

    static func put(_ key: String, type: String? = "image/png", length: Int64? = 10, expires: Int64 = 60,
                    bucket: String = "uploads") -> Intent {
        var intent = Intent(capability: .sign(.put), bucket: bucket, key: key, lifetime: expires)
        intent.upload.contentType = type
        intent.upload.contentLength = length
        return intent
    }

    static func reason(_ result: Result<Grant, PolicyEngine.Denial>) -> String? {
        if case .failure(let denial) = result { return denial.reason }
        return nil
    }

    static func message(_ result: Result<Grant, PolicyEngine.Denial>) -> String? {
        if case .failure(let denial) = result { return denial.message }
        return nil
    }

    let claims = ["sub": "42"]

    @Test func operationAllowedAndNot() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a.png"), web, claims: claims)) == nil)
        var delete = Self.put("users/42/a.png")
        delete.capability = .sign(.delete)
        #expect(Self.message(Self.evaluate(delete, web, claims: claims))
                == "no rule of caller 'web' allows operation delete")
    }

    @Test func bucketAllowedAndNot() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a.png", bucket: "uploads"), web, claims: claims)) == nil)
        #expect(Self.message(Self.evaluate(Self.put("users/42/a.png", bucket: "private"), web, claims: claims))
                == "rule 1: bucket 'private' does not match 'uploads'")
    }

    @Test func keyPatternWithSubClaim() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/deep/a.png"), web, claims: claims)) == nil)
        #expect(Self.message(Self.evaluate(Self.put("users/43/a.png"), web, claims: claims))
                == "rule 1: key 'users/43/a.png' does not match 'users/${sub}/*'")
        // The prefix alone, without the separator, is not inside the caller's folder.
        #expect(Self.reason(Self.evaluate(Self.put("users/42"), web, claims: claims)) == "key")
        #expect(Self.reason(Self.evaluate(Self.put("users/420/a.png"), web, claims: claims)) == "key")
    }

    @Test func expiresAllowedAndNot() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a", expires: 600), web, claims: claims)) == nil)
        #expect(Self.message(Self.evaluate(Self.put("users/42/a", expires: 601), web, claims: claims))
                == "rule 1: expires_in 601 is over max_expires_in 600")
    }

    @Test func contentTypeAllowedMissingAndWrong() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a", type: "image/webp"), web, claims: claims)) == nil)
        #expect(Self.message(Self.evaluate(Self.put("users/42/a", type: "text/html"), web, claims: claims))
                == "rule 1: content_type 'text/html' is not one of image/*")
        #expect(Self.message(Self.evaluate(Self.put("users/42/a", type: nil), web, claims: claims))
                == "rule 1: content_type is required (allowed: image/*)")
        // "image/" alone is not a type under image/*.
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a", type: "image/"), web, claims: claims)) == "content_type")
    }

    @Test func contentLengthAllowedMissingAndOver() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a", length: 1000), web, claims: claims)) == nil)
        #expect(Self.message(Self.evaluate(Self.put("users/42/a", length: 1001), web, claims: claims))
                == "rule 1: content_length 1001 is over max_content_length 1000")
        #expect(Self.message(Self.evaluate(Self.put("users/42/a", length: nil), web, claims: claims))
                == "rule 1: content_length is required (at most 1000)")
        #expect(Self.reason(Self.evaluate(Self.put("users/42/a"), web, claims: claims, signature: .s3fm)) == "content_length")
    }

    @Test func postFormRangeAndTypePrefix() throws {
        let web = try Self.webRules()
        var post = Intent(capability: .postForm, bucket: "uploads", key: "users/42/${filename}", lifetime: 60)
        post.upload.contentType = "image/png"
        post.upload.lengthRange = 1...1000
        #expect(Self.reason(Self.evaluate(post, web, claims: claims)) == nil)
        post.upload.lengthRange = 1...1001
        #expect(Self.message(Self.evaluate(post, web, claims: claims))
                == "rule 1: content_length_range max 1001 is over max_content_length 1000")
        // Under image/*, no prefix is covered: starts-with "image/" also admits image/svg+xml.
        post.upload.lengthRange = 1...10
        post.upload.contentType = nil
        for prefix in ["im", "image/", "image/png"] {
            post.upload.contentTypePrefix = prefix
            #expect(Self.message(Self.evaluate(post, web, claims: claims))
                    == "rule 1: content_type_prefix '\(prefix)' also admits script-capable types and lists of types; only */* covers a prefix, so give an exact content_type (allowed: image/*)")
        }
    }

    @Test func backendCondition() throws {
        // `{operations: [get], bucket: "*", backend: main, max_expires_in: 60}` of caller `pinned`.
        let pinned = [PolicyRule(number: 1, name: nil, operations: [.sign(.get)], bucket: try KeyPattern("*"),
                                 key: try KeyPattern("*"), backend: "main", maxExpiresIn: 60, contentTypes: nil,
                                 maxContentLength: nil)]
        let get = Intent(capability: .sign(.get), bucket: "b", key: "k", lifetime: 60)
        #expect(Self.reason(Self.evaluate(get, pinned, name: "pinned", claims: [:], backend: "main")) == nil)
        #expect(Self.message(Self.evaluate(get, pinned, name: "pinned", claims: [:], backend: "cold")) == "rule 1: backend 'cold' is not 'main'")
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
    func keyEscapesAreDenied(_ key: String, _ message: String) throws {
        let web = try Self.webRules()
        let result = Self.evaluate(Self.put(key), web, claims: claims)
        #expect(Self.message(result) == message)
        #expect(Self.reason(result) == "invalid_key")
    }

    @Test func emptySegmentsAreKeptAndAllowed() throws {
        let web = try Self.webRules()
        #expect(Self.reason(Self.evaluate(Self.put("users/42//a.png"), web, claims: claims)) == nil)
    }

    @Test(arguments: ["42/../43", "42/x", "..", ".", "*", "", "4\u{1}2"])
    func unsafeSubClaimsNeverMatch(_ sub: String) throws {
        let web = try Self.webRules()
        // Even a key built from the claim itself is refused: the claim cannot widen the pattern.
        let result = Self.evaluate(Self.put("users/\(sub)/a.png"), web, claims: ["sub": sub])
        #expect(Self.reason(result) != nil)
    }

    @Test func missingClaimIsDeniedByName() throws {
        let web = try Self.webRules()
        #expect(Self.message(Self.evaluate(Self.put("users/42/a"), web, claims: [:]))
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
