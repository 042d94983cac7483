import PresignConfig
import Synchronization
import Testing

/// Configuration generations: each worker keeps its view until a replace, sees the new one on its next look, and
/// the derived state is built once per generation.
struct ConfigStoreTests {
    static let yaml = """
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, access_key_env: K, secret_key_env: S}
        callers:
          - name: a
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex("k"))"}
            rules: [{operations: [get], bucket: b, max_expires_in: 60}]
        """

    static func config(workers: Int?) async throws -> ServiceConfig {
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
}
