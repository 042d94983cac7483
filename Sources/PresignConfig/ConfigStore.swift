import Synchronization
import UVLoop

/// The configuration in force, and its generations (SIGHUP installs a new one). Each worker keeps its own
/// reference and only looks at the shared slot when the generation number moves, so the hot path reads one atomic
/// and takes no lock. `Derived` is state built once per generation by whoever serves it (the presign API's rate
/// limiter); the admin proxy reads the same store through `config(worker:)`.
public final class ConfigStore<Derived: Sendable>: Sendable {
    public final class Generation: Sendable {
        public let number: Int
        public let config: ServiceConfig
        public let derived: Derived

        init(number: Int, config: ServiceConfig, derived: Derived) {
            self.number = number
            self.config = config
            self.derived = derived
        }
    }

    private let current: Mutex<Generation>
    private let number = Atomic<Int>(0)
    /// Each worker's generation, in its own box (written only by that worker).
    private let perWorker: PerWorker<Generation>
    private let derive: @Sendable (ServiceConfig) -> Derived

    public init(_ config: ServiceConfig, workers: Int, derive: @escaping @Sendable (ServiceConfig) -> Derived) {
        let first = Generation(number: 0, config: config, derived: derive(config))
        current = Mutex(first)
        perWorker = PerWorker(count: max(workers, 1)) { _ in first }
        self.derive = derive
    }

    /// Installs a new configuration. Requests already running finish with the generation they started with.
    public func replace(_ config: ServiceConfig) {
        let derived = derive(config)
        current.withLock { generation in
            generation = Generation(number: generation.number + 1, config: config, derived: derived)
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

    /// The newest configuration, under the lock (tests, the command line).
    public var latest: ServiceConfig { current.withLock { $0.config } }
}
