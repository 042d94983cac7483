import Foundation
import PresignAPI
import PresignConfig
import PresignRuntime
import S3Signing
import Synchronization
import Testing

/// Configuration generations: each worker keeps its view until a replace, sees the new one on its next look, and
/// the derived state and the signers are built once per generation.
struct ConfigStoreTests {
    static let yaml = """
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: K, secret_key_env: S}
        callers:
          - name: a
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex("k"))"}
            rules: [{operations: [get], bucket: b, max_expires_in: 60}]
        """

    static func config(workers: Int?, yaml: String = yaml) async throws -> ServiceConfig {
        var config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: ["K": "ak", "S": "sk"]))
        config.workers = workers
        return config
    }

    @Test func eachWorkerKeepsItsGenerationUntilAReplaceAndThenSeesTheNewOne() async throws {
        let derivations = Atomic<Int>(0)
        let store = ConfigStore(try await Self.config(workers: 1), workers: 3) { config in
            derivations.wrappingAdd(1, ordering: .relaxed)
            return config.workers ?? 0
        }
        let first = store.generation(worker: 0)
        #expect(first.number == 0 && first.derived == 1)
        #expect(store.generation(worker: 2) === first)
        store.replace(try await Self.config(workers: 7))
        for worker in 0..<3 {
            let seen = store.generation(worker: worker)
            #expect(seen.number == 1 && seen.derived == 7 && seen.config.workers == 7)
        }
        #expect(store.generation(worker: 1) === store.generation(worker: 1))
        #expect(store.latest.workers == 7)
        // Derived once per generation, not once per worker.
        #expect(derivations.load(ordering: .relaxed) == 2)
    }

    /// SIGHUP: a rotating backend whose source did not change signs with its current set from the new generation's
    /// first request on; its cell has a box for each of the store's workers.
    @Test func aReplaceCarriesARotatingBackendsSetAndSizesItsCellByTheWorkers() async throws {
        let yaml = Self.yaml.replacingOccurrences(
            of: "access_key_env: K, secret_key_env: S", with: #"credentials: {container_endpoint: "http://127.0.0.1:9/creds"}"#)
        let store = ConfigStore(try await Self.config(workers: nil, yaml: yaml), workers: 5) { _ in 0 }
        let cell = try #require(store.newest.signers.cell(named: "main"))
        #expect(cell.workers == 5)
        cell.publish(CredentialSet(credentials: Credentials(accessKeyId: "A", secretAccessKey: "S", sessionToken: "T"), expiration: nil))
        store.replace(try await Self.config(workers: nil, yaml: yaml))
        let next = store.generation(worker: 4)
        #expect(next.number == 1)
        let carried = try #require(next.signers.cell(named: "main"))
        #expect(carried !== cell && carried.workers == 5)
        #expect(carried.published(worker: 4)?.set.credentials.accessKeyId == "A")
    }
}
