import Logging
import PresignConfig
import S3Client
import UVLoop

/// Every remote key set, by issuer and URL, so a config reload keeps the keys (and the refetch window) of the
/// issuers it still names. Looked up under a lock only when a config generation is built.
public final class RemoteKeySets: Sendable {
    /// What a key set needs from the service: its monotonic clock (nanoseconds), a count per fetch outcome
    /// (`presignd_jwks_fetches_total`), its logger, and how it fetches the document (curl, or a test's fetcher).
    public struct Hooks: Sendable {
        public var monotonicNanos: @Sendable () -> UInt64
        public var fetched: @Sendable (_ worker: Int, _ outcome: String) -> Void
        public var logger: Logger
        public var fetcher: any HTTPFetching

        public init(
            monotonicNanos: @escaping @Sendable () -> UInt64, fetched: @escaping @Sendable (_ worker: Int, _ outcome: String) -> Void, logger: Logger,
            fetcher: any HTTPFetching = CurlFetch()
        ) {
            self.monotonicNanos = monotonicNanos
            self.fetched = fetched
            self.logger = logger
            self.fetcher = fetcher
        }
    }

    private let sets = Locked<[String: RemoteKeySet]>([:])
    private let workers: Int
    private let hooks: Hooks

    public init(workers: Int, hooks: Hooks) {
        self.workers = workers
        self.hooks = hooks
    }

    public static func name(issuer: String, url: String) -> String { issuer + "\n" + url }

    /// The key sets `config`'s JWT callers with a `jwks_url` use, by `name(issuer:url:)`.
    public func sets(for config: ServiceConfig) -> [String: RemoteKeySet] {
        var out: [String: RemoteKeySet] = [:]
        for caller in config.callers {
            guard case .jwt(let verifier) = caller.auth, let url = verifier.jwksURL else { continue }
            let name = Self.name(issuer: verifier.issuer, url: url)
            out[name] = sets.withLock { sets in
                if let known = sets[name] { return known }
                let made = RemoteKeySet(issuer: verifier.issuer, url: url, workers: workers, hooks: hooks)
                sets[name] = made
                return made
            }
        }
        return out
    }
}
