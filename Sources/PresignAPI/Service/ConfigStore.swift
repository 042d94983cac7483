import PresignConfig
import PresignRuntime
import Synchronization
import UVLoop

/// The configuration in force, and its generations (SIGHUP installs a new one). Each worker keeps its own
/// reference and only looks at the shared slot when the generation number moves, so the hot path reads one atomic
/// and takes no lock. A generation carries what the service builds from its configuration: the backends' signers
/// (`BackendSigners`, with the real worker count) and `Derived`, the state built once per generation by whoever
/// serves it (the presign API's rate limiter, link store, key sets). The admin proxy reads the same store through
/// `generation(worker:)`.
public final class ConfigStore<Derived: Sendable>: Sendable {
    public final class Generation: Sendable {
        public let number: Int
        public let config: ServiceConfig
        public let signers: BackendSigners
        public let derived: Derived

        init(number: Int, config: ServiceConfig, signers: BackendSigners, derived: Derived) {
            self.number = number
            self.config = config
            self.signers = signers
            self.derived = derived
        }

        /// The configuration and its signers, as the admin proxy reads them.
        public var serving: (config: ServiceConfig, signers: BackendSigners) { (config, signers) }
    }

    /// The newest generation, behind a pthread mutex (`Locked`: ThreadSanitizer sees it).
    private let current: Locked<Generation>
    private let number = Atomic<Int>(0)
    /// Each worker's generation, in its own box (written only by that worker).
    private let perWorker: PerWorker<Generation>
    private let derive: @Sendable (ServiceConfig) -> Derived
    public let workers: Int

    public init(_ config: ServiceConfig, workers: Int, derive: @escaping @Sendable (ServiceConfig) -> Derived) {
        let workers = max(workers, 1)
        let first = Generation(number: 0, config: config, signers: BackendSigners(config, workers: workers), derived: derive(config))
        current = Locked(first)
        perWorker = PerWorker(count: workers) { _ in first }
        self.derive = derive
        self.workers = workers
    }

    /// Installs a new configuration. Requests already running finish with the generation they started with. A
    /// rotating backend whose source did not change hands its current set to the new generation's cell before any
    /// worker can see it, so a SIGHUP never answers 503 `CredentialsUnavailable` in between.
    public func replace(_ config: ServiceConfig) {
        let previous = current.withLock { $0.signers }
        let signers = BackendSigners(config, workers: workers, carrying: previous)
        let derived = derive(config)
        current.withLock { generation in
            generation = Generation(number: generation.number + 1, config: config, signers: signers, derived: derived)
            number.store(generation.number, ordering: .releasing)
        }
    }

    /// Worker `worker`'s view: call it only on that worker's loop thread.
    public func generation(worker: Int) -> Generation {
        let mine = perWorker[worker]
        if mine.number == number.load(ordering: .acquiring) { return mine }
        let fresh = current.withLock { $0 }
        perWorker[worker] = fresh
        return fresh
    }

    /// The configuration a worker serves with (lock-free unless it just changed).
    public func config(worker: Int) -> ServiceConfig { generation(worker: worker).config }

    /// The newest generation, under the lock (tests, the command line, the refresher's first look).
    public var newest: Generation { current.withLock { $0 } }

    /// The newest configuration, under the lock (tests, the command line).
    public var latest: ServiceConfig { newest.config }
}
