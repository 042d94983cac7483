import Foundation
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing
import Testing

/// What the service builds from a configuration's backends: a static presigner, or a rotating cell with one box per
/// worker of the service, signing with one whole set until its margin, and carried over a reload when its source
/// did not change.
struct BackendSignersTests {
    static let fileJSON = #"{"AccessKeyId":"ASIAFILE","SecretAccessKey":"file-secret","Token":"file-token","Expiration":"2026-11-18T11:36:40Z"}"#

    static func config(_ credentials: String) async throws -> ServiceConfig {
        let yaml = """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, \(credentials)}
              other: {endpoint: "http://127.0.0.1:8334", dialect: aws-v4, access_key_env: K, secret_key_env: S}
            callers:
              - name: a
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex("k"))"}
                rules: [{operations: [get], bucket: b, max_expires_in: 3600}]
            """
        let secrets = SecretSource(environment: ["K": "ak", "S": "sk"], readFile: { $0 == "/run/creds.json" ? Self.fileJSON : nil })
        return try await ConfigLoader.load(yaml: yaml, secrets: secrets)
    }

    static let container = #"credentials: {container_endpoint: "http://169.254.170.2/v2/credentials/abc"}"#

    static func set(_ key: String, expiration: Int64) -> CredentialSet {
        CredentialSet(credentials: Credentials(accessKeyId: key, secretAccessKey: "S-\(key)", sessionToken: "T-\(key)"), expiration: expiration)
    }

    @Test func aFileSourceSignsWithItsWholeSet() async throws {
        let config = try await Self.config("credentials: {file: /run/creds.json, refresh_margin_seconds: 120}")
        let signers = BackendSigners(config, workers: 2)
        let backend = config.backends["main"]!
        #expect(signers.cell(named: "main")?.source == .file(path: "/run/creds.json"))
        let signer = try signers.signer(.calls, for: backend, worker: 1, now: 1_795_000_000).get()
        #expect(signer.signer.configuration.credentials == Credentials(accessKeyId: "ASIAFILE", secretAccessKey: "file-secret", sessionToken: "file-token"))
        #expect(signer.window == CredentialWindow(expiration: 1_795_001_800, margin: 120))
        // Inside the margin the backend cannot sign.
        guard case .failure(let unavailable) = signers.signer(.calls, for: backend, worker: 1, now: 1_795_001_680) else { Issue.record("signed inside the margin"); return }
        #expect(unavailable == ServiceConfig.CredentialsUnavailable(
            backend: "main", reason: "the credentials expire at 2026-11-18T11:36:40Z and were not refreshed"))
        // Static keys sign with no window.
        let fixed = try signers.signer(.calls, for: config.backends["other"]!, worker: 0, now: 1_795_001_680).get()
        #expect(fixed.signer.configuration.credentials == Credentials(accessKeyId: "ak", secretAccessKey: "sk"))
        #expect(fixed.window == CredentialWindow(expiration: nil, margin: 0))
        #expect(signers.cell(named: "other") == nil)
    }

    @Test func aRemoteSourceHasNoSetUntilItsFirstFetch() async throws {
        let config = try await Self.config(Self.container)
        let signers = BackendSigners(config, workers: 1)
        let backend = config.backends["main"]!
        guard case .failure(let unavailable) = signers.signer(.calls, for: backend, worker: 0, now: 1_795_000_000) else { Issue.record("signed with nothing"); return }
        #expect(unavailable.reason == "no credentials yet")
        let cell = try #require(signers.cell(named: "main"))
        cell.publish(Self.set("A", expiration: 1_795_000_900))
        #expect(try signers.signer(.calls, for: backend, worker: 0, now: 1_795_000_000).get().signer.configuration.credentials.accessKeyId == "A")
        cell.publish(Self.set("B", expiration: 1_795_001_900))
        let second = try signers.signer(.calls, for: backend, worker: 0, now: 1_795_000_000).get()
        #expect(second.signer.configuration.credentials == Credentials(accessKeyId: "B", secretAccessKey: "S-B", sessionToken: "T-B"))
        #expect(cell.latest?.generation == 2)
    }

    /// The cell keeps one box per worker the service runs, not a fixed 256: with more workers than that, two
    /// workers would share a box, and each writes its own (a race).
    @Test(arguments: [1, 3, 300])
    func aCellHasOneBoxPerWorkerOfTheService(_ workers: Int) async throws {
        let config = try await Self.config(Self.container)
        let cell = try #require(BackendSigners(config, workers: workers).cell(named: "main"))
        #expect(cell.workers == workers)
        cell.publish(Self.set("A", expiration: 1_795_000_900))
        #expect(cell.published(worker: workers - 1)?.set.credentials.accessKeyId == "A")
    }

    @Test func aReloadCarriesTheSetOfAnUnchangedSourceOnly() async throws {
        let first = BackendSigners(try await Self.config(Self.container), workers: 2)
        // Nothing to carry yet: the new cell starts empty.
        #expect(BackendSigners(try await Self.config(Self.container), workers: 2, carrying: first).cell(named: "main")?.latest == nil)
        first.cell(named: "main")!.publish(Self.set("A", expiration: 1_795_000_900))
        let reloaded = try await Self.config(Self.container)
        let second = BackendSigners(reloaded, workers: 2, carrying: first)
        #expect(try second.signer(.calls, for: reloaded.backends["main"]!, worker: 1, now: 1_795_000_000).get().signer.configuration.credentials.accessKeyId == "A")
        // Another source, or another margin, is not the same credentials.
        let moved = BackendSigners(try await Self.config(Self.container.replacingOccurrences(of: "/abc", with: "/xyz")), workers: 2, carrying: first)
        #expect(moved.cell(named: "main")?.latest == nil)
        let margin = BackendSigners(try await Self.config(Self.container.replacingOccurrences(of: "}", with: ", refresh_margin_seconds: 60}")),
                                    workers: 2, carrying: first)
        #expect(margin.cell(named: "main")?.latest == nil)
        // A file source re-read by the load keeps what it read.
        let file = BackendSigners(try await Self.config("credentials: {file: /run/creds.json}"), workers: 2, carrying: second)
        #expect(file.cell(named: "main")?.latest?.set.credentials.accessKeyId == "ASIAFILE")
    }

    @Test func aBackendFromAnotherGenerationIsFoundByName() async throws {
        let config = try await Self.config(Self.container)
        let signers = BackendSigners(config, workers: 1)
        // "main" sorts first (index 0); a configuration without "main" puts "other" at index 0.
        let onlyOther = try await ConfigLoader.load(yaml: """
            backends:
              other: {endpoint: "http://127.0.0.1:8334", dialect: aws-v4, access_key_env: K, secret_key_env: S}
            callers:
              - name: a
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex("k"))"}
                rules: [{operations: [get], bucket: b, max_expires_in: 3600}]
            """, secrets: SecretSource(environment: ["K": "ak", "S": "sk"]))
        let stale = onlyOther.backends["other"]!
        #expect(stale.index == 0 && config.backends["other"]!.index == 1)
        #expect(try signers.signer(.calls, for: stale, worker: 0, now: 1_795_000_000).get().signer.configuration.endpoint.port == 8334)
        guard case .failure(let gone) = BackendSigners(onlyOther, workers: 1).signer(.calls, for: config.backends["main"]!, worker: 0, now: 0) else {
            Issue.record("signed for a backend the generation does not have"); return
        }
        #expect(gone.reason == "the backend is not in this configuration")
    }
}
