import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing

/// The grant presignd signs is never wider than the rule that allowed it: `${filename}` forms, content types that
/// smuggle a second type or a script-capable one, response overrides, `.` segments, and bucket-level operations
/// under a key rule. Each case goes through the service and expects the exact answer.
struct PolicyHardeningTests {
    /// One caller per rule, so every denial names rule 1 and the test reads which rule was asked.
    static let yaml = """
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: pngs
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex("pngs-key"))"}
            rules:
              - {name: pngs, operations: [put, post_object, get, head], bucket: media, key: "public/*.png",
                 max_expires_in: 600, content_types: ["image/*"]}
          - name: inbox
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex("inbox-key"))"}
            rules:
              - {name: inbox, operations: [post_object, put, get], bucket: drop, key: "inbox/*", max_expires_in: 600}
          - name: vectors
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex("vectors-key"))"}
            rules:
              - {name: vectors, operations: [put, get, post_object], bucket: vectors, key: "*", max_expires_in: 600,
                 content_types: ["image/svg+xml", "text/*"]}
        """

    static func service() async throws -> PresignService {
        Fixture.service(try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment)))
    }

    static func presign(_ service: PresignService, _ apiKey: String, _ body: String) -> (Int, String) {
        let response = service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: [("Authorization", "Bearer \(apiKey)")]))
        return (response.status.code, Fixture.text(response))
    }

    /// The decoded policy document of a `post_object` answer.
    static func policy(_ text: String) throws -> String {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        let fields = try #require(object["fields"] as? [String: String])
        let policy = try #require(fields["policy"])
        return String(decoding: try #require(Data(base64Encoded: policy)), as: UTF8.self)
    }

    static func invalid(_ field: String, _ message: String) -> String {
        #"{"error":{"code":"InvalidRequest","message":"\#(field): \#(message)","field":"\#(field)"}}"#
    }

    static func denied(_ message: String) -> String { #"{"error":{"code":"PolicyDenied","message":"\#(message)"}}"# }

    static let mediaTypeMessage = "must be one media type: type/subtype, then optional ;name=value parameters (RFC 9110)"
    static let headerValueMessage = "must be a header value: visible ASCII, spaces and tabs, not starting or ending with a space or tab"

    // MARK: B. ${filename}

    @Test func filenameFollowedByMoreKeyIsRefusedBecauseS3ChecksOnlyTheTextBeforeIt() async throws {
        let service = try await Self.service()
        let expected = Self.invalid("key", "${filename} must end the key: a form is signed with starts-with on the text before it")
        #expect(Self.presign(service, "pngs-key", #"{"operation":"post_object","bucket":"media","key":"public/${filename}.png","content_type":"image/png"}"#)
                == (400, expected))
        #expect(Self.presign(service, "inbox-key", #"{"operation":"post_object","bucket":"drop","key":"inbox/${filename}${filename}"}"#)
                == (400, expected))
    }

    @Test func filenameFormIsRefusedWhenSomeKeyWithItsPrefixWouldFallOutsideTheRule() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "pngs-key", #"{"operation":"post_object","bucket":"media","key":"public/${filename}","content_type":"image/png"}"#)
                == (403, Self.denied("rule 1 'pngs': key 'public/${filename}' lets the uploader choose any key that starts with 'public/', and 'public/*.png' does not allow all of them; give the exact key")))
    }

    @Test func filenameFormIsSignedWhenTheRuleAllowsEveryKeyWithItsPrefix() async throws {
        let service = try await Self.service()
        let (status, text) = Self.presign(service, "inbox-key", #"{"operation":"post_object","bucket":"drop","key":"inbox/2026/${filename}","expires_in":300}"#)
        #expect(status == 200)
        #expect(try Self.policy(text) == #"{"expiration":"2026-11-18T11:11:40Z","conditions":[{"bucket":"drop"},["starts-with","$key","inbox/2026/"],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIDTEST/20261118/us-east-1/s3/aws4_request"},{"x-amz-date":"20261118T110640Z"}]}"#)
    }

    @Test func filenameIsAnOrdinaryKeyOutsidePostForms() async throws {
        let service = try await Self.service()
        let (status, text) = Self.presign(service, "pngs-key", #"{"operation":"put","bucket":"media","key":"public/${filename}.png","content_type":"image/png"}"#)
        #expect(status == 200)
        #expect(text.hasPrefix(#"{"url":"http://127.0.0.1:8333/media/public/%24%7Bfilename%7D.png?X-Amz-Algorithm="#))
    }

    // MARK: C. Content types

    @Test(arguments: [
        "image/png, text/html", "image/png; a=b, text/html", "image/png;", "image/png; a", " image/png", "image/png ",
        "image/png\t", "image/", "/png", "image/png/x", "image/png; a=\"unterminated", "image/p\u{E9}ng", "image png",
        "image/png; a=b;", "image/png; a=\"x\"y", "",
    ])
    func contentTypeThatIsNotExactlyOneMediaTypeIs400(_ type: String) async throws {
        let service = try await Self.service()
        let body = #"{"operation":"put","bucket":"media","key":"public/a.png","content_type":"\#(JSONWriter.quoteForTest(type))"}"#
        #expect(Self.presign(service, "pngs-key", body) == (400, Self.invalid("content_type", Self.mediaTypeMessage)))
    }

    @Test(arguments: ["image/png", "IMAGE/PNG", "image/png; charset=\"a,b\"", "image/png;a=b; c=\"d\\\"e\"", "image/x.y-z+png"])
    func contentTypeThatIsOneMediaTypeIsSigned(_ type: String) async throws {
        let service = try await Self.service()
        let body = #"{"operation":"put","bucket":"media","key":"public/a.png","content_type":"\#(JSONWriter.quoteForTest(type))"}"#
        #expect(Self.presign(service, "pngs-key", body).0 == 200)
    }

    @Test func typeWildcardDoesNotAdmitScriptCapableTypes() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "pngs-key", #"{"operation":"put","bucket":"media","key":"public/a.png","content_type":"image/svg+xml"}"#)
                == (403, Self.denied("rule 1 'pngs': content_type 'image/svg+xml' is not one of image/* (a type/* wildcard never admits a script-capable type; list it exactly)")))
        #expect(Self.presign(service, "vectors-key", #"{"operation":"put","bucket":"vectors","key":"a","content_type":"text/html; charset=utf-8"}"#)
                == (403, Self.denied("rule 1 'vectors': content_type 'text/html; charset=utf-8' is not one of image/svg+xml, text/* (a type/* wildcard never admits a script-capable type; list it exactly)")))
        #expect(Self.presign(service, "vectors-key", #"{"operation":"put","bucket":"vectors","key":"a","content_type":"text/javascript"}"#).0 == 403)
        // Listed exactly, a script-capable type is allowed; text/* still admits plain text.
        #expect(Self.presign(service, "vectors-key", #"{"operation":"put","bucket":"vectors","key":"a","content_type":"image/svg+xml"}"#).0 == 200)
        #expect(Self.presign(service, "vectors-key", #"{"operation":"put","bucket":"vectors","key":"a","content_type":"text/plain"}"#).0 == 200)
    }

    @Test func contentTypePrefixIsNotCoveredByATypeWildcard() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "pngs-key", #"{"operation":"post_object","bucket":"media","key":"public/a.png","content_type_prefix":"image/"}"#)
                == (403, Self.denied("rule 1 'pngs': content_type_prefix 'image/' also admits script-capable types and lists of types; only */* covers a prefix, so give an exact content_type (allowed: image/*)")))
        // An exact type is pinned with an exact condition.
        let (status, text) = Self.presign(service, "pngs-key", #"{"operation":"post_object","bucket":"media","key":"public/a.png","content_type":"image/png"}"#)
        #expect(status == 200)
        #expect(try Self.policy(text) == #"{"expiration":"2026-11-18T11:16:40Z","conditions":[{"bucket":"media"},{"key":"public/a.png"},{"Content-Type":"image/png"},{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIDTEST/20261118/us-east-1/s3/aws4_request"},{"x-amz-date":"20261118T110640Z"}]}"#)
    }

    @Test func contentTypePrefixWithoutRuleTypesStillSignsStartsWith() async throws {
        let service = try await Self.service()
        let (status, text) = Self.presign(service, "inbox-key", #"{"operation":"post_object","bucket":"drop","key":"inbox/${filename}","content_type_prefix":"image/"}"#)
        #expect(status == 200)
        #expect(try Self.policy(text) == #"{"expiration":"2026-11-18T11:16:40Z","conditions":[{"bucket":"drop"},["starts-with","$key","inbox/"],["starts-with","$Content-Type","image/"],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIDTEST/20261118/us-east-1/s3/aws4_request"},{"x-amz-date":"20261118T110640Z"}]}"#)
    }

    // MARK: D. Response overrides

    @Test(arguments: [
        ("content_disposition", "attachment\r\nX-Evil: 1"), ("content_disposition", "a\u{0}b"), ("content_disposition", "caf\u{E9}"),
        ("content_disposition", " attachment"), ("content_disposition", "attachment\t"), ("content_disposition", ""),
        ("cache_control", "no-cache\nSet-Cookie: a=b"), ("content_language", "en\u{7F}"), ("expires", "\u{1}"),
        ("content_encoding", "gzip\r"),
    ])
    func responseOverrideThatIsNotAHeaderValueIs400(_ field: String, _ value: String) async throws {
        let service = try await Self.service()
        let body = #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"\#(field)":"\#(JSONWriter.quoteForTest(value))"}}"#
        #expect(Self.presign(service, "inbox-key", body) == (400, Self.invalid("response.\(field)", Self.headerValueMessage)))
    }

    @Test func responseContentTypeMustBeOneMediaType() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"image/png, text/html"}}"#)
                == (400, Self.invalid("response.content_type", Self.mediaTypeMessage)))
    }

    @Test func responseContentTypeObeysTheRuleContentTypes() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "pngs-key", #"{"operation":"get","bucket":"media","key":"public/a.png","response":{"content_type":"text/html"}}"#)
                == (403, Self.denied("rule 1 'pngs': response.content_type 'text/html' is not one of image/*")))
        #expect(Self.presign(service, "pngs-key", #"{"operation":"head","bucket":"media","key":"public/a.png","response":{"content_type":"image/svg+xml"}}"#)
                == (403, Self.denied("rule 1 'pngs': response.content_type 'image/svg+xml' is not one of image/* (a type/* wildcard never admits a script-capable type; list it exactly)")))
        let (status, text) = Self.presign(service, "pngs-key", #"{"operation":"get","bucket":"media","key":"public/a.png","response":{"content_type":"image/png","content_disposition":"inline; filename=\"a.png\""}}"#)
        #expect(status == 200)
        #expect(text.contains("&response-content-disposition=inline%3B%20filename%3D%22a.png%22&response-content-type=image%2Fpng&"))
        #expect(Self.presign(service, "vectors-key", #"{"operation":"get","bucket":"vectors","key":"a","response":{"content_type":"image/svg+xml"}}"#).0 == 200)
    }

    @Test func responseContentTypeWithoutRuleTypesIsNeverScriptCapable() async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"text/html"}}"#)
                == (403, Self.denied("rule 1 'inbox': response.content_type 'text/html' can run script; list it in the rule's content_types to allow it")))
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"application/xhtml+xml"}}"#).0 == 403)
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"text/plain; charset=utf-8"}}"#).0 == 200)
    }

    // MARK: E. Dot segments

    @Test(arguments: ["inbox/./a", "./inbox/a", "inbox/a/.", "inbox/."])
    func keyWithADotSegmentIsRefused(_ key: String) async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"\#(key)"}"#)
                == (403, Self.denied("key contains a '.' segment")))
    }

    @Test(arguments: ["inbox//a", "inbox/.a", "inbox/a.", "inbox/.../a"])
    func keyWithEmptyOrDottedNamesIsAllowed(_ key: String) async throws {
        let service = try await Self.service()
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"\#(key)"}"#).0 == 200)
    }

    // MARK: F. Bucket-level operations under a key rule

    static func loadError(_ rules: String) async -> String? {
        let yaml = """
            backends: {main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}}
            callers: [{name: lister, auth: {api_key_sha256: "\(APIKeyAuth.digestHex("k"))"}, rules: \(rules)}]
            """
        do {
            _ = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
            return nil
        } catch {
            return error.description
        }
    }

    @Test func keyRuleWithABucketOperationIsRefusedAtLoad() async {
        #expect(await Self.loadError(#"[{operations: [get], bucket: b, key: "users/*", max_expires_in: 60}, {operations: [get, list_bucket], bucket: b, key: "users/${sub}/*", max_expires_in: 60}]"#)
                == "callers[0].rules[1].key: list_bucket is not about one object, so a key pattern cannot limit it (it would sign the whole bucket); give bucket operations their own rule with key '*'")
        #expect(await Self.loadError(#"[{operations: [list_all_my_buckets, delete_bucket], bucket: "*", key: "a/*", max_expires_in: 60}]"#)
                == "callers[0].rules[0].key: list_all_my_buckets is not about one object, so a key pattern cannot limit it (it would sign the whole bucket); give bucket operations their own rule with key '*'")
    }

    @Test func bucketOperationsLoadUnderAnyKey() async {
        #expect(await Self.loadError(#"[{operations: [get, list_bucket, get_bucket_acl], bucket: b, max_expires_in: 60}, {operations: [list_bucket], bucket: b, key: "**", max_expires_in: 60}]"#) == nil)
    }

    // MARK: Found by review: sniffed and multipart types, wildcards as types

    /// Browsers sniff these (the body decides), and multipart/x-mixed-replace renders its parts: no `type/*` and no
    /// rule without `content_types` lets them be stored or served.
    @Test(arguments: ["unknown/unknown", "application/unknown", "application/x-unknown-content-type", "multipart/x-mixed-replace;boundary=a", "multipart/mixed"])
    func sniffedAndMultipartTypesAreScriptCapable(_ type: String) async throws {
        let service = try await Self.service()
        let json = JSONWriter.quoteForTest(type)
        #expect(Self.presign(service, "inbox-key", #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"\#(json)"}}"#).0 == 403)
    }

    @Test(arguments: [("put", "content_type"), ("get", "response.content_type")])
    func aWildcardIsNeverSignedAsAType(_ operation: String, _ field: String) async throws {
        let service = try await Self.service()
        for wildcard in ["*/*", "image/*", "*/png"] {
            let body = operation == "put"
                ? #"{"operation":"put","bucket":"drop","key":"inbox/a","content_type":"\#(wildcard)"}"#
                : #"{"operation":"get","bucket":"drop","key":"inbox/a","response":{"content_type":"\#(wildcard)"}}"#
            #expect(Self.presign(service, "inbox-key", body) == (400, Self.invalid(field, "must name one type, not a wildcard such as */* or image/*")))
        }
    }
}

extension JSONWriter {
    /// The inside of a JSON string literal for `text` (the tests build request bodies by hand).
    static func quoteForTest(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(text, to: &out)
        return String(decoding: out.dropFirst().dropLast(), as: UTF8.self)
    }
}
