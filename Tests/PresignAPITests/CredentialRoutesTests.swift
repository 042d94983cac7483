import Foundation
import HTTPServer
import JSONKit
import PresignAPI
import PresignConfig
import PresignRuntime
import S3Signing
import Testing

/// Presigning with rotating credentials: the URL carries the set's token, its expiry is clamped to the set's expiry
/// minus the margin (and says so), a rule's min_expires_in turns a too-short URL into 503, and a set inside its
/// margin answers 503 CredentialsUnavailable.
struct CredentialRoutesTests {
    static let key = "cred-key-0123456789"
    // Expires 30 min after Fixture.now; margin 300 s: URLs may live until now + 1500.
    static let document = #"{"AccessKeyId":"ASIAROTATE","SecretAccessKey":"rotate-secret","Token":"rotate-token","Expiration":"2026-11-18T11:36:40Z"}"#

    static func service(clock: Fixture.Clock = Fixture.Clock()) async throws -> PresignService {
        let yaml = """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, credentials: {file: /run/creds.json}}
            callers:
              - name: app
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex(key))"}
                rules:
                  - {operations: [get], bucket: b, key: "*", max_expires_in: 3600}
                  - {operations: [put], bucket: b, key: "*", max_expires_in: 3600, min_expires_in: 1200}
            """
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: [:], readFile: { $0 == "/run/creds.json" ? Self.document : nil }))
        return Fixture.service(config, clock: clock)
    }

    static func presign(_ service: PresignService, _ body: String) -> HTTPResponse {
        service.respond(Fixture.request("POST", "/v1/presign", body: body, headers: [("Authorization", "Bearer \(key)")]))
    }

    static func field(_ response: HTTPResponse, _ name: String) -> String? {
        guard case .object(let members)? = try? JSONValue.parse(response.body) else { return nil }
        for (key, value) in members where key == name {
            switch value {
            case .string(let text): return text
            case .bool(let flag): return String(flag)
            default: return "\(value)"
            }
        }
        return nil
    }

    /// A reload with an unchanged remote source hands the current set to the new generation before any request
    /// can see it: no 503 CredentialsUnavailable between the SIGHUP and the refresher's next tick.
    @Test func aReloadKeepsTheCurrentSetOfAnUnchangedRemoteSource() async throws {
        let yaml = """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, credentials: {container_endpoint: "http://127.0.0.1:9/creds"}}
            callers:
              - name: app
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex(Self.key))"}
                rules:
                  - {operations: [get], bucket: b, key: "*", max_expires_in: 3600}
            """
        let secrets = SecretSource(environment: [:])
        let first = try await ConfigLoader.load(yaml: yaml, secrets: secrets)
        let service = Fixture.service(first)
        let get = #"{"operation":"get","bucket":"b","key":"k","expires_in":60}"#
        #expect(Self.presign(service, get).status.code == 503, "no set fetched yet")
        service.store.newest.signers.cell(named: "main")!.publish(try CredentialDocument.parseFile(Array(Self.document.utf8)))
        #expect(Self.presign(service, get).status.code == 200)
        service.replace(try await ConfigLoader.load(yaml: yaml, secrets: secrets))
        let after = Self.presign(service, get)
        #expect(after.status.code == 200, "\(Fixture.text(after))")
        #expect((Self.field(after, "url") ?? "").contains("X-Amz-Security-Token=rotate-token"))
        // Another source is not the same credentials: its cell starts empty.
        service.replace(try await ConfigLoader.load(yaml: yaml.replacingOccurrences(of: "127.0.0.1:9/creds", with: "127.0.0.1:9/other"), secrets: secrets))
        #expect(Self.presign(service, get).status.code == 503)
    }

    @Test func aLongURLIsClampedAndSaysSo() async throws {
        let service = try await Self.service()
        let response = Self.presign(service, #"{"operation":"get","bucket":"b","key":"k","expires_in":3600}"#)
        #expect(response.status.code == 200)
        let url = Self.field(response, "url") ?? ""
        #expect(url.hasPrefix("http://127.0.0.1:8333/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAROTATE%2F20261118%2Fus-east-1%2Fs3%2Faws4_request"))
        #expect(url.contains("&X-Amz-Expires=1500&"))
        #expect(url.contains("&X-Amz-Security-Token=rotate-token&"))
        let body = Fixture.text(response)
        #expect(body.hasSuffix(#","expires_at":"2026-11-18T11:31:40Z","expires_clamped":true,"requested_expires_at":"2026-11-18T12:06:40Z","signature_version":"v4"}"#))
        #expect(String(decoding: service.metrics.render(), as: UTF8.self).contains(#"presignd_expiry_clamped_total{backend="main"} 1"#))
    }

    @Test func aShortURLIsNotClamped() async throws {
        let response = Self.presign(try await Self.service(), #"{"operation":"get","bucket":"b","key":"k","expires_in":600}"#)
        #expect(response.status.code == 200)
        #expect(Fixture.text(response).hasSuffix(#","expires_at":"2026-11-18T11:16:40Z","signature_version":"v4"}"#))
    }

    @Test func underTheRuleMinimumIs503() async throws {
        let clock = Fixture.Clock()
        let service = try await Self.service(clock: clock)
        #expect(Self.presign(service, #"{"operation":"put","bucket":"b","key":"k","expires_in":3600}"#).status.code == 200)
        clock.wall += 301  // 1199 s left before the margin: under min_expires_in 1200
        let refused = Self.presign(service, #"{"operation":"put","bucket":"b","key":"k","expires_in":3600}"#)
        #expect(refused.status.code == 503)
        #expect(Fixture.header(refused, "Retry-After") == "5")
        #expect(Fixture.text(refused) == #"{"error":{"code":"CredentialsUnavailable","message":"backend 'main' has no usable credentials right now (they are being refreshed); retry later"}}"#)
        // A get, whose rule has no minimum, is clamped to what is left.
        #expect(Self.field(Self.presign(service, #"{"operation":"get","bucket":"b","key":"k","expires_in":3600}"#), "expires_at") == "2026-11-18T11:31:40Z")
    }

    @Test func insideTheMarginEverythingIs503() async throws {
        let clock = Fixture.Clock()
        clock.wall += 1500
        let service = try await Self.service(clock: clock)
        let refused = Self.presign(service, #"{"operation":"get","bucket":"b","key":"k","expires_in":60}"#)
        #expect(refused.status.code == 503)
        #expect(Fixture.text(refused) == #"{"error":{"code":"CredentialsUnavailable","message":"backend 'main' has no usable credentials right now (they are being refreshed); retry later"}}"#)
        #expect(String(decoding: service.metrics.render(), as: UTF8.self).contains(#"presignd_credentials_unavailable_total{backend="main"} 1"#))
    }

    @Test func batchItemsAreClampedOneByOne() async throws {
        let service = try await Self.service()
        let response = service.respond(Fixture.request(
            "POST", "/v1/presign/batch",
            body: #"{"requests":[{"operation":"get","bucket":"b","key":"a","expires_in":3600},{"operation":"get","bucket":"b","key":"c","expires_in":60}]}"#,
            headers: [("Authorization", "Bearer \(Self.key)")]))
        #expect(response.status.code == 200)
        let body = Fixture.text(response)
        #expect(body.components(separatedBy: #""expires_clamped":true,"requested_expires_at":"2026-11-18T12:06:40Z""#).count == 2)
        #expect(body.contains(#""expires_at":"2026-11-18T11:07:40Z","signature_version":"v4""#))
    }
}
