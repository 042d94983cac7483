import Foundation
import HTTPServer
import JSONKit
import PresignConfig
import Testing
@testable import PresignAPI
import TestSupport

/// The API-key index against the one-by-one constant-time scan it replaced, and the verified-token cache's bounds.
struct CallerIndexTests {
    /// Differential: for 2,000 callers (some sharing a key, the first in the config winning) and random
    /// presented keys, the index finds exactly the caller `APIKeyAuth.firstMatch` finds.
    @Test func theIndexAgreesWithTheLinearScan() async throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("CallerIndexTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        var keys: [String] = []
        var yaml = """
            listen: 127.0.0.1:0
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                     access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
            callers:

            """
        for index in 0..<2000 {
            // One key in ten repeats an earlier one: the first caller with it must win.
            let key = index > 0 && rng.next() % 10 == 0 ? keys[Int(rng.next() % UInt64(keys.count))] : "key-\(index)-\(rng.next())"
            keys.append(key)
            yaml += "  - {name: c\(index), auth: {api_key_sha256: \"\(APIKeyAuth.digestHex(key))\"}, rules: [{operations: [get], bucket: b\(index), key: \"*\", max_expires_in: 60}]}\n"
        }
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        let index = APIKeyIndex(config.callers)
        var presented = keys
        for _ in 0..<500 { presented.append("unknown-\(rng.next())") }
        for key in presented {
            let digest = APIKeyAuth.digest(key)
            let scanned = APIKeyAuth.firstMatch(of: digest, in: config.callers) { caller in
                if case .apiKey(let expected) = caller.auth { expected } else { nil }
            }
            #expect(index.caller(digest: digest) == scanned?.index, "seed \(seed) key \(key)")
        }
        // And through the service: the caller found is the one whose rule answers.
        let service = Fixture.service(config)
        let last = keys.count - 1
        let response = service.respond(Fixture.request(
            "POST", "/v1/presign", body: #"{"operation":"get","bucket":"b\#(last)","key":"x"}"#,
            headers: [("Authorization", "Bearer \(keys[last])")]))
        let owner = config.callers[index.caller(digest: APIKeyAuth.digest(keys[last]))!]
        #expect(response.status.code == (owner.index == last ? 200 : 403))
    }

    @Test func aCachedTokenIsUsedOnlyInsideItsExpiryAndForAMinute() {
        let cache = VerifiedTokens(workers: 2)
        let claims = ["sub": "alice", "exp": "1000"]
        cache.insert("t", caller: 3, claims: claims, leeway: 5, worker: 0, now: 900)
        #expect(cache.lookup("t", worker: 0, now: 900)?.caller == 3)
        #expect(cache.lookup("t", worker: 1, now: 900) == nil, "each worker has its own")
        #expect(cache.lookup("t", worker: 0, now: 959.9) != nil)
        #expect(cache.lookup("t", worker: 0, now: 960) == nil, "at most a minute")
        cache.insert("u", caller: 1, claims: claims, leeway: 5, worker: 0, now: 990)
        #expect(cache.lookup("u", worker: 0, now: 1003.9) != nil)
        #expect(cache.lookup("u", worker: 0, now: 1004) == nil, "never past exp + leeway - 1")
        cache.insert("v", caller: 1, claims: ["exp": "900"], leeway: 0, worker: 0, now: 950)
        #expect(cache.lookup("v", worker: 0, now: 950) == nil, "an expired token is not cached")
        cache.insert("w", caller: 1, claims: ["sub": "no exp"], leeway: 0, worker: 0, now: 950)
        #expect(cache.lookup("w", worker: 0, now: 950) == nil)
        cache.insert(String(repeating: "x", count: VerifiedTokens.maxTokenBytes + 1), caller: 1, claims: claims, leeway: 0, worker: 0, now: 950)
        #expect(cache.lookup(String(repeating: "x", count: VerifiedTokens.maxTokenBytes + 1), worker: 0, now: 950) == nil)
    }

    @Test func theCacheStaysBounded() {
        let cache = VerifiedTokens(workers: 1)
        let claims = ["exp": "100000"]
        for index in 0..<(VerifiedTokens.capacity * 3) {
            cache.insert("token-\(index)", caller: 0, claims: claims, leeway: 0, worker: 0, now: 10)
        }
        var present = 0
        for index in 0..<(VerifiedTokens.capacity * 3) where cache.lookup("token-\(index)", worker: 0, now: 10) != nil { present += 1 }
        #expect(present <= VerifiedTokens.capacity && present > 0)
        #expect(cache.lookup("token-\(VerifiedTokens.capacity * 3 - 1)", worker: 0, now: 10) != nil, "the newest is kept")
    }

    /// A reload starts a new generation with an empty cache: a token whose secret changed is refused at once.
    @Test func aReloadEmptiesTheCache() async throws {
        let keys = try Fixture.makeKeys()
        let service = Fixture.service(try await Fixture.config(keys))
        let token = try await Fixture.hs256Token(Fixture.claims(sub: "s1", iss: "https://hs.example.com", aud: "app"))
        let request = Fixture.request("POST", "/v1/presign", body: #"{"operation":"get","bucket":"x","key":"shared/a"}"#,
                                      headers: [("Authorization", "Bearer \(token)")])
        #expect(service.respond(request).status.code == 200)
        #expect(service.respond(request).status.code == 200)
        var environment = Fixture.environment
        environment["HS_SECRET"] = "another-secret-for-the-same-issuer-0123456789"
        service.replace(try await ConfigLoader.load(yaml: Fixture.yaml(jwksPath: keys.jwksPath), secrets: SecretSource(environment: environment)))
        let refused = service.respond(request)
        #expect(refused.status.code == 401)
        #expect(Fixture.text(refused).contains("bad signature"))
    }
}
