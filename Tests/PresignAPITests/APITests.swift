import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import PresignRuntime
import S3Signing
import Testing

/// The API in process, through the same route table the server installs: exact JSON for successes and errors.
struct APITests {
    static let auth = [("Authorization", "Bearer \(Fixture.apiKey)")]

    static func setup() async throws -> (PresignService, Fixture.Lines, Fixture.Clock, ServiceConfig) {
        let config = try await Fixture.config(try Fixture.makeKeys())
        let lines = Fixture.Lines()
        let clock = Fixture.Clock()
        return (Fixture.service(config, clock: clock, audit: lines), lines, clock, config)
    }

    @Test func putURLIsExactlyWhatTheSignerMakes() async throws {
        let (service, lines, _, config) = try await Self.setup()
        let response = service.respond(Fixture.request("POST", "/v1/presign",
            body: #"{"operation":"put","bucket":"reports","key":"q3/sales report+final.csv","expires_in":600,"content_type":"text/csv","content_length":5}"#,
            headers: Self.auth))
        #expect(response.status.code == 200)
        let expected = try BackendSigners(config, workers: 1).signer(.query, for: config.backends["main"]!, worker: 0, now: 0).get().signer.sign(
            .init(operation: .put, bucket: "reports", key: "q3/sales report+final.csv", expiry: .after(seconds: 600),
                  headers: [("Content-Type", "text/csv"), ("Content-Length", "5")]),
            now: SigningTime(epochSeconds: Int64(Fixture.now)))
        let url = expected.url
        #expect(Fixture.text(response) == #"{"url":"\#(url)","method":"PUT","headers":{"Content-Type":"text/csv","Content-Length":"5"},"expires_at":"2026-11-18T11:16:40Z","signature_version":"v4"}"#)
        #expect(expected.url.hasPrefix("http://127.0.0.1:8333/reports/q3/sales%20report%2Bfinal.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDTEST%2F20261118%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20261118T110640Z&X-Amz-Expires=600&X-Amz-SignedHeaders=content-length%3Bcontent-type%3Bhost&X-Amz-Signature="))
        // One audit line, with no secret, signature or URL in it.
        let audit = lines.all.filter { $0.contains(#""audit":"presign""#) }
        #expect(audit == [#"{"audit":"presign","time":"2026-11-18T11:06:40Z","request_id":"req-1","caller":"batch","operation":"put","backend":"main","bucket":"reports","key":"q3/sales report+final.csv","expires_at":"2026-11-18T11:16:40Z","client_ip":"192.0.2.7"}"#])
    }

    @Test func defaultExpiryIsTheSmallerOf900AndTheRuleCap() async throws {
        let (service, _, _, _) = try await Self.setup()
        let response = service.respond(Fixture.request("POST", "/v1/presign",
            body: #"{"operation":"get","bucket":"reports","key":"a","response":{"content_disposition":"attachment; filename=\"a.csv\""}}"#,
            headers: Self.auth))
        let text = Fixture.text(response)
        #expect(text.contains("X-Amz-Expires=900&"))
        #expect(text.contains("response-content-disposition=attachment%3B%20filename%3D%22a.csv%22"))
        #expect(text.hasSuffix(#""method":"GET","headers":{},"expires_at":"2026-11-18T11:21:40Z","signature_version":"v4"}"#))
    }

    @Test(arguments: [
        (#"{"bucket":"reports","key":"a"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"operation: is required","field":"operation"}}"#),
        (#"{"operation":"copy","bucket":"reports","key":"a"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"operation: unknown operation 'copy'","field":"operation"}}"#),
        (#"{"operation":"get","bucket":"reports"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"key: is required","field":"key"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"a","expires_in":"60"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"expires_in: must be an integer","field":"expires_in"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"a","expires_in":0}"#, 400, #"{"error":{"code":"InvalidRequest","message":"expires_in: must be 1...31536000 seconds (SigV4 allows at most 604800)","field":"expires_in"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"a","colour":"red"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"colour: unknown field","field":"colour"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"a","backend":"other"}"#, 404, #"{"error":{"code":"BackendNotFound","message":"no backend named 'other'","field":"backend"}}"#),
        (#"{"operation":"list_bucket","bucket":"reports","key":"a"}"#, 400, #"{"error":{"code":"InvalidRequest","message":"key: not used by list_bucket","field":"key"}}"#),
        (#"[1,2]"#, 400, #"{"error":{"code":"InvalidRequest","message":"body: must be a JSON object","field":"body"}}"#),
        (#"{"operation":"#, 400, #"{"error":{"code":"InvalidRequest","message":"body: not valid JSON (unexpected end of JSON)","field":"body"}}"#),
        (#"{"operation":"get","bucket":"photos","key":"a"}"#, 403, #"{"error":{"code":"PolicyDenied","message":"rule 1 'reports': bucket 'photos' does not match 'reports'"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"a","expires_in":86401}"#, 403, #"{"error":{"code":"PolicyDenied","message":"rule 1 'reports': expires_in 86401 is over max_expires_in 86400"}}"#),
        (#"{"operation":"get","bucket":"reports","key":"x/../y"}"#, 403, #"{"error":{"code":"PolicyDenied","message":"key contains a '..' segment"}}"#),
    ])
    func errorsHaveTheDocumentedShape(_ body: String, _ status: Int, _ expected: String) async throws {
        let (service, lines, _, _) = try await Self.setup()
        let response = service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth))
        #expect(response.status.code == status)
        #expect(Fixture.header(response, "Content-Type") == "application/json")
        #expect(Fixture.text(response) == expected)
        #expect(lines.all.allSatisfy { !$0.contains(#""audit""#) })
    }

    @Test func nonJSONContentTypeIs415() async throws {
        let (service, _, _, _) = try await Self.setup()
        let response = service.respond(Fixture.request("POST", "/v1/presign", body: "operation=get",
            headers: Self.auth + [("Content-Type", "application/x-www-form-urlencoded")]))
        #expect(response.status.code == 415)
        #expect(Fixture.text(response) == #"{"error":{"code":"UnsupportedMediaType","message":"Content-Type must be application/json"}}"#)
    }

    @Test func burstThen429WithRetryAfterThenRefill() async throws {
        let (service, _, clock, _) = try await Self.setup()
        let body = #"{"operation":"get","bucket":"reports","key":"a"}"#
        for _ in 0..<3 {
            #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth)).status.code == 200)
        }
        let limited = service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth))
        #expect(limited.status.code == 429)
        #expect(Fixture.header(limited, "Retry-After") == "1")
        #expect(Fixture.text(limited) == #"{"error":{"code":"RateLimited","message":"caller 'batch' is over its rate limit"}}"#)
        // The other worker has its own bucket.
        #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth, worker: 1)).status.code == 200)
        clock.mono += 1_000_000_000
        #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth)).status.code == 200)
        #expect(String(decoding: service.metrics.render(), as: UTF8.self).contains("presignd_rate_limited_total 1\n"))
    }

    @Test func batchMixesResultsInOrder() async throws {
        let (service, _, _, _) = try await Self.setup()
        let body = #"{"requests":[{"operation":"delete","bucket":"reports","key":"a"},{"operation":"get","bucket":"nope","key":"a"},{"operation":"get","bucket":"reports","key":"b","backend":"cold"}]}"#
        let response = service.respond(Fixture.request("POST", "/v1/presign/batch", body: body, headers: Self.auth))
        #expect(response.status.code == 200)
        let text = Fixture.text(response)
        #expect(text.hasPrefix(#"{"results":[{"url":"http://127.0.0.1:8333/reports/a?X-Amz-Algorithm=AWS4-HMAC-SHA256&"#))
        #expect(text.hasSuffix(#""method":"DELETE","headers":{},"expires_at":"2026-11-18T11:21:40Z","signature_version":"v4"},{"error":{"code":"PolicyDenied","message":"rule 1 'reports': bucket 'nope' does not match 'reports'"},"status":403},{"error":{"code":"BackendNotFound","message":"no backend named 'cold'","field":"requests[2].backend"},"status":404}]}"#))
        // An invalid item fails the whole batch, naming it.
        let invalid = service.respond(Fixture.request("POST", "/v1/presign/batch",
            body: #"{"requests":[{"operation":"get","bucket":"reports","key":"a"},{"operation":"get"}]}"#, headers: Self.auth))
        #expect(invalid.status.code == 400)
        #expect(Fixture.text(invalid) == #"{"error":{"code":"InvalidRequest","message":"requests[1].bucket: is required","field":"requests[1].bucket"}}"#)
    }

    @Test func batchSizeIsBounded() async throws {
        let (service, _, _, _) = try await Self.setup()
        let many = "{\"requests\":[" + Array(repeating: #"{"operation":"get","bucket":"reports","key":"a"}"#, count: 101).joined(separator: ",") + "]}"
        let response = service.respond(Fixture.request("POST", "/v1/presign/batch", body: many, headers: Self.auth))
        #expect(Fixture.text(response) == #"{"error":{"code":"InvalidRequest","message":"requests: must hold 1 to 100 requests (got 101)","field":"requests"}}"#)
    }

    @Test func postObjectFormFieldsAndPolicy() async throws {
        let keys = try Fixture.makeKeys()
        let config = try await Fixture.config(keys)
        let service = Fixture.service(config)
        let token = try await Fixture.es256Token(Fixture.claims(sub: "42"), key: keys.es256)
        let response = service.respond(Fixture.request("POST", "/v1/presign",
            body: #"{"operation":"post_object","bucket":"uploads","key":"users/42/${filename}","content_type":"image/png","expires_in":300}"#,
            headers: [("Authorization", "Bearer \(token)")]))
        #expect(response.status.code == 200)
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as! [String: Any]
        #expect(object["url"] as? String == "http://127.0.0.1:8333/uploads/")
        #expect(object["method"] as? String == "POST")
        let fields = object["fields"] as! [String: String]
        #expect(Set(fields.keys) == ["key", "Content-Type", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature"])
        #expect(fields["Content-Type"] == "image/png")
        let policy = String(decoding: Data(base64Encoded: fields["policy"]!)!, as: UTF8.self)
        // The rule's 1000-byte cap is written into the policy, as is the exact type (under image/*, a prefix
        // would also admit image/svg+xml, so the rule needs an exact type).
        #expect(policy == #"{"expiration":"2026-11-18T11:11:40Z","conditions":[{"bucket":"uploads"},["starts-with","$key","users/42/"],{"Content-Type":"image/png"},["content-length-range",0,1000],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AKIDTEST/20261118/us-east-1/s3/aws4_request"},{"x-amz-date":"20261118T110640Z"}]}"#)
    }

    @Test func corsPreflightAllowedAndDenied() async throws {
        let (service, _, _, _) = try await Self.setup()
        let allowed = service.respond(Fixture.request("OPTIONS", "/v1/presign", headers: [
            ("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization,content-type")]))
        #expect(allowed.status.code == 204)
        #expect(allowed.headers.map { "\($0.name): \($0.value)" } == [
            "Access-Control-Allow-Origin: https://app.example.com", "Vary: Origin",
            "Access-Control-Allow-Methods: POST, OPTIONS",
            "Access-Control-Allow-Headers: Authorization, Content-Type, X-Request-Id", "Access-Control-Max-Age: 600"])
        let denied = service.respond(Fixture.request("OPTIONS", "/v1/presign", headers: [
            ("Origin", "https://evil.example.com"), ("Access-Control-Request-Method", "POST")]))
        #expect(denied.status.code == 403)
        #expect(Fixture.header(denied, "Access-Control-Allow-Origin") == nil)
        #expect(Fixture.text(denied) == #"{"error":{"code":"CORSOriginDenied","message":"origin https://evil.example.com is not allowed"}}"#)
        // An actual request from the allowed origin carries the CORS response headers too.
        let actual = service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"a"}"#,
            headers: Self.auth + [("Origin", "https://app.example.com")]))
        #expect(Fixture.header(actual, "Access-Control-Allow-Origin") == "https://app.example.com")
        #expect(Fixture.header(actual, "Access-Control-Expose-Headers") == "X-Request-Id, Retry-After, WWW-Authenticate")
    }

    @Test func undeclaredMethodsGet405WithAllow() async throws {
        let (service, _, _, _) = try await Self.setup()
        for method in ["GET", "TRACE", "QUERY", "PUT"] {
            let response = service.respond(Fixture.request(method, "/v1/presign"))
            #expect(response.status.code == 405)
            #expect(Fixture.header(response, "Allow") == "POST, OPTIONS")
        }
        let metrics = service.respond(Fixture.request("POST", "/metrics"))
        #expect(Fixture.header(metrics, "Allow") == "GET, HEAD")
    }

    @Test func metricsCountRequestsIssuedAndDenied() async throws {
        let (service, _, _, _) = try await Self.setup()
        _ = service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"reports","key":"a"}"#, headers: Self.auth))
        _ = service.respond(Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"x","key":"a"}"#, headers: Self.auth))
        let text = String(decoding: service.metrics.render(), as: UTF8.self)
        #expect(text.contains(#"presignd_urls_issued_total{operation="get",backend="main"} 1"#))
        #expect(text.contains(#"presignd_policy_denials_total{reason="bucket"} 1"#))
        #expect(text.contains(#"presignd_http_requests_total{route="/v1/presign",status="200"} 1"#))
        #expect(text.contains(#"presignd_http_requests_total{route="/v1/presign",status="403"} 1"#))
        #expect(text.contains(#"presignd_http_request_duration_seconds_count{route="/v1/presign"} 2"#))
    }

    @Test func reloadSwapsTheConfigForNewRequests() async throws {
        let (service, _, _, _) = try await Self.setup()
        let body = #"{"operation":"get","bucket":"reports","key":"a"}"#
        #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth)).status.code == 200)
        let other = try await ConfigLoader.load(yaml: """
            backends: {main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}}
            callers: [{name: only, auth: {api_key_sha256: "\(APIKeyAuth.digestHex("new-key"))"}, rules: [{operations: [get], bucket: reports, max_expires_in: 60}]}]
            """, secrets: SecretSource(environment: Fixture.environment))
        service.replace(other)
        #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: Self.auth)).status.code == 401)
        #expect(service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: [("Authorization", "Bearer new-key")])).status.code == 200)
    }
}
