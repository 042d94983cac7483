import Crypto
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import Testing

/// A fixed corpus of requests (every presign route, every error shape) and the exact responses and audit lines they
/// got, recorded with a fixed clock. Refactoring must not change a byte of them: the corpus is replayed on every
/// test run. `PRESIGND_RECORD_REPLAY=1 swift test --filter ReplayCorpusTests` records it again (only when a change
/// of behaviour is intended, and then the diff of `Replay/corpus.jsonl` is the review).
struct ReplayCorpusTests {
    static let file = Replay.directory.appendingPathComponent("corpus.jsonl")
    static let opsKey = "replay-ops-key-0123456789"
    static let limitedKey = "replay-limited-key-0123456789"
    static let hsSecret = "replay-hs256-secret-0123456789abcdef"

    static let yaml = """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
          v2: {endpoint: "https://s3.example.com", dialect: aws-v2, addressing: virtual,
               access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
          fm: {endpoint: "https://rest.s3for.me", dialect: s3fm, addressing: path,
               access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: ops
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(opsKey))"}
            rules:
              - {name: objects, operations: [get, head, put, delete, get_acl, put_acl, post_object], bucket: data,
                 key: "*", max_expires_in: 86400, content_types: ["image/*", "text/plain"], max_content_length: 1000000}
              - {name: buckets, operations: [list_bucket, get_bucket_acl, put_bucket_acl, get_bucket_location,
                 get_bucket_logging, put_bucket_logging, create_bucket, create_located_bucket, delete_bucket],
                 bucket: "data*", key: "*", max_expires_in: 3600}
              - {name: service, operations: [list_all_my_buckets], bucket: "*", key: "*", max_expires_in: 60}
              - {name: any-form, operations: [post_object], bucket: forms, key: "in/*", max_expires_in: 600}
          - name: limited
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(limitedKey))"}
            rate_limit: {per_second: 1, burst: 2}
            rules:
              - {operations: [get], bucket: data, key: "*", max_expires_in: 60}
          - name: user
            auth: {jwt: {issuer: "https://hs.example.com", audience: app, hs256_secret_env: HS_SECRET}}
            rules:
              - {name: own, operations: [get, put, post_object], bucket: data, key: "users/${sub}/*",
                 max_expires_in: 600, content_types: ["image/png"], max_content_length: 5000}
        cors: {allowed_origins: ["https://app.example.com"], max_age: 600}
        """

    typealias Exchange = Replay.Exchange

    static func corpus(userToken: String, otherUserToken: String, expiredToken: String) -> [Exchange] {
        var list: [Exchange] = []
        let ops = [("Authorization", "Bearer \(opsKey)")]
        func presign(_ name: String, _ body: String, auth: [(String, String)] = ops, extra: [(String, String)] = []) {
            list.append(Exchange(name: name, method: "POST", target: "/v1/presign", headers: auth + [("Content-Type", "application/json")] + extra, body: body))
        }
        // Every operation on every backend.
        let objectOps = ["get", "head", "put", "delete", "get_acl", "put_acl"]
        let bucketOps = ["list_bucket", "get_bucket_acl", "put_bucket_acl", "get_bucket_location", "get_bucket_logging",
                         "put_bucket_logging", "create_bucket", "create_located_bucket", "delete_bucket"]
        for backend in ["main", "v2", "fm"] {
            for op in objectOps {
                let type = op == "put" ? #","content_type":"text/plain","content_length":12"# : ""
                let body = #"{"operation":"\#(op)","bucket":"data","key":"reports/q1 2026+final.txt","backend":"\#(backend)"\#(type)}"#
                presign("\(op) on \(backend)", op == "put" && backend != "main" ? body.replacingOccurrences(of: #","content_length":12"#, with: "") : body)
            }
            for op in bucketOps { presign("\(op) on \(backend)", #"{"operation":"\#(op)","bucket":"data-logs","backend":"\#(backend)"}"#) }
            presign("list_all_my_buckets on \(backend)", #"{"operation":"list_all_my_buckets","backend":"\#(backend)"}"#)
            presign("post_object on \(backend)",
                    #"{"operation":"post_object","bucket":"data","key":"up/a.png","content_type":"image/png","content_length_range":[1,1000],"backend":"\#(backend)"}"#)
            presign("post_object filename on \(backend)", #"{"operation":"post_object","bucket":"forms","key":"in/${filename}","backend":"\#(backend)"}"#)
        }
        // Each operation refused by bucket.
        for op in objectOps { presign("\(op) denied", #"{"operation":"\#(op)","bucket":"secret","key":"a","backend":"main"}"#) }
        for op in bucketOps { presign("\(op) denied", #"{"operation":"\#(op)","bucket":"other","backend":"main"}"#) }
        // Keys as bytes.
        let keys = ["a", "a b", "a+b", "a%2Fb", "ümlaut/ß.txt", "emoji/😀.png", "x/y/z/", "-dash", "~tilde", "a//b",
                    "a/./b", "a/../b", "..", ".", "a\\u0000b", "a\\u007fb", "a\\tb", String(repeating: "k", count: 1024),
                    String(repeating: "k", count: 1025), "q?x=1&y=2", "hash#frag", "*", "${filename}", "%", "a;b", "'\\\""]
        for (index, key) in keys.enumerated() {
            presign("key \(index)", #"{"operation":"get","bucket":"data","key":"\#(key)","backend":"main"}"#)
        }
        // Fields and their validation.
        let bodies: [(String, String)] = [
            ("no operation", #"{"bucket":"data","key":"a"}"#),
            ("unknown operation", #"{"operation":"copy","bucket":"data","key":"a"}"#),
            ("operation not a string", #"{"operation":1,"bucket":"data","key":"a"}"#),
            ("no bucket", #"{"operation":"get","key":"a"}"#),
            ("empty bucket", #"{"operation":"get","bucket":"","key":"a"}"#),
            ("bad bucket chars", #"{"operation":"get","bucket":"da/ta","key":"a"}"#),
            ("no key", #"{"operation":"get","bucket":"data"}"#),
            ("key on bucket op", #"{"operation":"list_bucket","bucket":"data","key":"a"}"#),
            ("bucket on service op", #"{"operation":"list_all_my_buckets","bucket":"data"}"#),
            ("expires string", #"{"operation":"get","bucket":"data","key":"a","expires_in":"60"}"#),
            ("expires zero", #"{"operation":"get","bucket":"data","key":"a","expires_in":0}"#),
            ("expires over v4", #"{"operation":"get","bucket":"data","key":"a","expires_in":604801,"backend":"main"}"#),
            ("expires over rule", #"{"operation":"get","bucket":"data","key":"a","expires_in":86401,"backend":"v2"}"#),
            ("expires float", #"{"operation":"get","bucket":"data","key":"a","expires_in":1.5}"#),
            ("expires max", #"{"operation":"get","bucket":"data","key":"a","expires_in":31536000,"backend":"fm"}"#),
            ("expires 1", #"{"operation":"get","bucket":"data","key":"a","expires_in":1,"backend":"main"}"#),
            ("unknown field", #"{"operation":"get","bucket":"data","key":"a","colour":"red"}"#),
            ("unknown backend", #"{"operation":"get","bucket":"data","key":"a","backend":"other"}"#),
            ("no backend of three", #"{"operation":"get","bucket":"data","key":"a"}"#),
            ("content_type on get", #"{"operation":"get","bucket":"data","key":"a","content_type":"text/plain","backend":"main"}"#),
            ("content_length on get", #"{"operation":"get","bucket":"data","key":"a","content_length":5,"backend":"main"}"#),
            ("put without type", #"{"operation":"put","bucket":"data","key":"a","content_length":5,"backend":"main"}"#),
            ("put without length", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","backend":"main"}"#),
            ("put too long", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":1000001,"backend":"main"}"#),
            ("put negative length", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":-1,"backend":"main"}"#),
            ("put type list", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png, text/html","content_length":5,"backend":"main"}"#),
            ("put svg", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/svg+xml","content_length":5,"backend":"main"}"#),
            ("put html", #"{"operation":"put","bucket":"data","key":"a","content_type":"text/html","content_length":5,"backend":"main"}"#),
            ("put type params", #"{"operation":"put","bucket":"data","key":"a","content_type":"text/plain; charset=utf-8","content_length":5,"backend":"main"}"#),
            ("put type upper", #"{"operation":"put","bucket":"data","key":"a","content_type":"IMAGE/PNG","content_length":5,"backend":"main"}"#),
            ("put md5", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"content_md5":"XUFAKrxLKna5cZ2REBfFkg==","backend":"main"}"#),
            ("put bad md5", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"content_md5":"xx","backend":"main"}"#),
            ("put sha256", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"checksum_sha256":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=","backend":"main"}"#),
            ("put bad sha256", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"checksum_sha256":"AAAA","backend":"main"}"#),
            ("put on v2 with length", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"backend":"v2"}"#),
            ("override disposition", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":{"content_disposition":"attachment; filename=\"a.txt\""}}"#),
            ("override all", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":{"content_disposition":"inline","content_type":"image/png","cache_control":"no-cache","content_language":"en","content_encoding":"gzip","expires":"Thu, 01 Dec 1994 16:00:00 GMT"}}"#),
            ("override crlf", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":{"content_disposition":"a\r\nX-Evil: 1"}}"#),
            ("override html", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":{"content_type":"text/html"}}"#),
            ("override unknown", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":{"x":"y"}}"#),
            ("override on put", #"{"operation":"put","bucket":"data","key":"a","content_type":"image/png","content_length":5,"backend":"main","response":{"content_type":"image/png"}}"#),
            ("override not object", #"{"operation":"get","bucket":"data","key":"a","backend":"main","response":"x"}"#),
            ("post range", #"{"operation":"post_object","bucket":"data","key":"a.png","content_type":"image/png","content_length_range":[0,1000000],"backend":"main"}"#),
            ("post range over", #"{"operation":"post_object","bucket":"data","key":"a.png","content_type":"image/png","content_length_range":[0,1000001],"backend":"main"}"#),
            ("post range inverted", #"{"operation":"post_object","bucket":"data","key":"a.png","content_type":"image/png","content_length_range":[5,1],"backend":"main"}"#),
            ("post range shape", #"{"operation":"post_object","bucket":"data","key":"a.png","content_type":"image/png","content_length_range":[1],"backend":"main"}"#),
            ("post prefix under image/*", #"{"operation":"post_object","bucket":"data","key":"a.png","content_type_prefix":"image/","backend":"main"}"#),
            ("post prefix open rule", #"{"operation":"post_object","bucket":"forms","key":"in/a","content_type_prefix":"image/","backend":"main"}"#),
            ("post both type and prefix", #"{"operation":"post_object","bucket":"forms","key":"in/a","content_type":"image/png","content_type_prefix":"image/","backend":"main"}"#),
            ("post content_length", #"{"operation":"post_object","bucket":"forms","key":"in/a","content_length":5,"backend":"main"}"#),
            ("post filename not last", #"{"operation":"post_object","bucket":"forms","key":"in/${filename}.png","backend":"main"}"#),
            ("post filename wider than rule", #"{"operation":"post_object","bucket":"data","key":"x/${filename}","content_type":"image/png","backend":"main"}"#),
            ("range on put", #"{"operation":"put","bucket":"data","key":"a","content_length_range":[1,2],"backend":"main"}"#),
            ("put_acl", #"{"operation":"put_acl","bucket":"data","key":"a","content_type":"application/xml","backend":"main"}"#),
            ("deep json", #"{"operation":"get","bucket":"data","key":"a","response":{"x":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}}"#),
            ("duplicate member", #"{"operation":"get","operation":"get","bucket":"data","key":"a"}"#),
            ("not an object", #"[1,2]"#),
            ("truncated", #"{"operation":"#),
            ("trailing data", #"{"operation":"get","bucket":"data","key":"a","backend":"main"} x"#),
            ("lone surrogate", #"{"operation":"get","bucket":"data","key":"\ud800","backend":"main"}"#),
            ("escaped key", #"{"operation":"get","bucket":"data","key":"\u00fc\/x\n","backend":"main"}"#),
            ("huge number", #"{"operation":"get","bucket":"data","key":"a","expires_in":1e400}"#),
            ("empty body", ""),
        ]
        for (name, body) in bodies { presign(name, body) }
        presign("text/plain body", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, auth: ops)
        list[list.count - 1].headers = ops + [("Content-Type", "text/plain")]
        presign("json with charset", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, auth: ops)
        list[list.count - 1].headers = ops + [("Content-Type", "application/json; charset=utf-8")]
        // Authentication.
        let get = #"{"operation":"get","bucket":"data","key":"users/7/a.png","backend":"main"}"#
        presign("no credentials", get, auth: [])
        presign("basic auth", get, auth: [("Authorization", "Basic YTpi")])
        presign("bearer empty", get, auth: [("Authorization", "Bearer ")])
        presign("unknown key", get, auth: [("Authorization", "Bearer nope")])
        presign("jwt user own key", get, auth: [("Authorization", "Bearer \(userToken)")])
        presign("jwt user other key", #"{"operation":"get","bucket":"data","key":"users/8/a.png","backend":"main"}"#, auth: [("Authorization", "Bearer \(userToken)")])
        presign("jwt user put png", #"{"operation":"put","bucket":"data","key":"users/7/a.png","content_type":"image/png","content_length":10,"backend":"main"}"#, auth: [("Authorization", "Bearer \(userToken)")])
        presign("jwt user put too big", #"{"operation":"put","bucket":"data","key":"users/7/a.png","content_type":"image/png","content_length":5001,"backend":"main"}"#, auth: [("Authorization", "Bearer \(userToken)")])
        presign("jwt user post", #"{"operation":"post_object","bucket":"data","key":"users/7/a.png","content_type":"image/png","backend":"main"}"#, auth: [("Authorization", "Bearer \(userToken)")])
        presign("jwt unsafe sub", get, auth: [("Authorization", "Bearer \(otherUserToken)")])
        presign("jwt expired", get, auth: [("Authorization", "Bearer \(expiredToken)")])
        presign("jwt garbage", get, auth: [("Authorization", "Bearer a.b.c")])
        presign("jwt tampered", get, auth: [("Authorization", "Bearer \(userToken.dropLast(2))xx")])
        // Rate limits: burst 2, then 429 with Retry-After, then refilled.
        for index in 0..<4 {
            presign("limited \(index)", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, auth: [("Authorization", "Bearer \(limitedKey)")])
            list[list.count - 1].advance = index == 0 ? 10 : 0
        }
        presign("limited refilled", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, auth: [("Authorization", "Bearer \(limitedKey)")])
        // Batches.
        func batch(_ name: String, _ body: String, auth: [(String, String)] = ops) {
            list.append(Exchange(name: name, method: "POST", target: "/v1/presign/batch", headers: auth + [("Content-Type", "application/json")], body: body))
        }
        batch("batch mixed", #"{"requests":[{"operation":"get","bucket":"data","key":"a","backend":"main"},{"operation":"get","bucket":"secret","key":"a","backend":"main"},{"operation":"get","bucket":"data","key":"a","backend":"nope"},{"operation":"list_bucket","bucket":"data","backend":"fm"}]}"#)
        batch("batch invalid item", #"{"requests":[{"operation":"get","bucket":"data","key":"a","backend":"main"},{"operation":"get","bucket":"data"}]}"#)
        batch("batch empty", #"{"requests":[]}"#)
        batch("batch not list", #"{"requests":{}}"#)
        batch("batch extra member", #"{"requests":[],"x":1}"#)
        batch("batch 101", #"{"requests":[\#(Array(repeating: #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, count: 101).joined(separator: ","))]}"#)
        batch("batch 100", #"{"requests":[\#(Array(repeating: #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, count: 100).joined(separator: ","))]}"#)
        batch("batch no auth", #"{"requests":[]}"#, auth: [])
        batch("batch limited", #"{"requests":[{"operation":"get","bucket":"data","key":"a","backend":"main"},{"operation":"get","bucket":"data","key":"b","backend":"main"},{"operation":"get","bucket":"data","key":"c","backend":"main"}]}"#, auth: [("Authorization", "Bearer \(limitedKey)")])
        batch("batch jwt", #"{"requests":[{"operation":"get","bucket":"data","key":"users/7/x","backend":"main"},{"operation":"get","bucket":"data","key":"users/8/x","backend":"main"}]}"#, auth: [("Authorization", "Bearer \(userToken)")])
        // CORS, methods and routes.
        func plain(_ name: String, _ method: String, _ target: String, _ headers: [(String, String)] = []) {
            list.append(Exchange(name: name, method: method, target: target, headers: headers, body: ""))
        }
        plain("preflight allowed", "OPTIONS", "/v1/presign", [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST")])
        plain("preflight batch", "OPTIONS", "/v1/presign/batch", [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST")])
        plain("preflight other origin", "OPTIONS", "/v1/presign", [("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "POST")])
        plain("preflight wrong method", "OPTIONS", "/v1/presign", [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "DELETE")])
        plain("plain options", "OPTIONS", "/v1/presign")
        presign("cors answer", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, extra: [("Origin", "https://app.example.com")])
        presign("cors other origin", #"{"operation":"get","bucket":"data","key":"a","backend":"main"}"#, extra: [("Origin", "https://evil.example.com")])
        plain("get presign", "GET", "/v1/presign")
        plain("delete batch", "DELETE", "/v1/presign/batch")
        plain("query method", "QUERY", "/v1/presign")
        plain("unknown route", "GET", "/v2/presign")
        plain("bad percent", "GET", "/v1/%zz")
        plain("openapi", "GET", "/openapi.yaml")
        return list
    }

    static func record(_ exchange: Exchange, _ response: HTTPResponse, audit: [String]) -> [String: Any] {
        // The document itself grows with the API (openapi.yaml is its own file, checked by schemathesis).
        Replay.record(exchange, response, audit: audit, body: exchange.target == "/openapi.yaml" ? "<openapi.yaml>" : nil)
    }

    @Test func everyRecordedResponseIsReproducedByteForByte() async throws {
        let environment = ["S3_ACCESS_KEY": "AKIDREPLAY", "S3_SECRET_KEY": "replay-secret-key", "HS_SECRET": Self.hsSecret]
        let config = try await ConfigLoader.load(yaml: Self.yaml, secrets: SecretSource(environment: environment))
        let lines = Fixture.Lines()
        let clock = Fixture.Clock()
        let service = Fixture.service(config, clock: clock, audit: lines)
        func token(_ sub: String, exp: Double) async throws -> String {
            try await Fixture.hs256Token(
                Fixture.claims(sub: sub, iss: "https://hs.example.com", aud: "app", exp: exp), secret: Self.hsSecret)
        }
        let corpus = Self.corpus(
            userToken: try await token("7", exp: Fixture.now + 300), otherUserToken: try await token("../8", exp: Fixture.now + 300),
            expiredToken: try await token("7", exp: Fixture.now - 300))
        #expect(corpus.count >= 200)
        var produced: [String] = []
        for exchange in corpus {
            clock.mono += exchange.advance * 1_000_000_000
            let before = lines.all.count
            let response = service.respond(
                Fixture.request(exchange.method, exchange.target, body: exchange.body, headers: exchange.headers))
            let audit = Array(lines.all[before...])
            produced.append(try Replay.line(Self.record(exchange, response, audit: audit)))
        }
        try Replay.check(produced, file: Self.file)
    }
}
