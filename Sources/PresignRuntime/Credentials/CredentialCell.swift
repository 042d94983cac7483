import PresignConfig
import S3Signing
import Synchronization
import UVLoop

/// A backend's rotating credentials as the workers see them: one immutable `Published` value (the set and the
/// presigner built from it) swapped under a lock, with a generation number each worker compares against its own
/// cached copy, so the hot path reads one atomic and takes no lock (as `ConfigStore` does). A URL is signed by one
/// `Published`, so its key id and its token always come from the same set. Built by `BackendSigners` from the
/// configuration's `RotatingCredentials`, one box per worker of the service.
public final class CredentialCell: Sendable {
    public final class Published: Sendable {
        public let generation: Int
        public let set: CredentialSet
        public let presigner: S3Presigner

        init(generation: Int, set: CredentialSet, presigner: S3Presigner) {
            self.generation = generation
            self.set = set
            self.presigner = presigner
        }
    }

    public let source: CredentialSource
    /// Seconds before the expiry at which a set stops signing (and URLs are clamped to).
    public let margin: Int64
    /// The presigner's settings; its credentials are replaced by each set's.
    public let template: S3Presigner.Configuration
    /// The published set and why the newest fetch failed (nil after a success), behind a pthread mutex
    /// (`Locked`: ThreadSanitizer sees it).
    private let current = Locked<(published: Published?, problem: String?)>((nil, nil))
    private let number = Atomic<Int>(0)
    /// Each worker's copy, in its own box (written only by that worker).
    private let perWorker: PerWorker<Published?>

    public init(source: CredentialSource, margin: Int64, template: S3Presigner.Configuration, workers: Int, initial: CredentialSet? = nil) {
        self.source = source
        self.margin = margin
        self.template = template
        perWorker = PerWorker(count: workers) { _ in nil }
        if let initial { publish(initial) }
    }

    /// The workers it keeps a copy for.
    public var workers: Int { perWorker.count }

    /// Installs a new set for every worker at once.
    public func publish(_ set: CredentialSet) {
        var configuration = template
        configuration.credentials = set.credentials
        let presigner = S3Presigner(configuration)
        current.withLock { current in
            let next = (current.published?.generation ?? 0) + 1
            current.published = Published(generation: next, set: set, presigner: presigner)
            current.problem = nil
            number.store(next, ordering: .releasing)
        }
    }

    private let complained = Atomic<Int64>(Int64.min)

    /// Whether a 503 for this backend should be logged now: at most one line per 10 s, across all workers.
    public func shouldComplain(now: Int64) -> Bool {
        let last = complained.load(ordering: .relaxed)
        guard last == Int64.min || now - last >= 10 else { return false }
        return complained.compareExchange(expected: last, desired: now, ordering: .relaxed).exchanged
    }

    public func recordFailure(_ message: String?) { current.withLock { $0.problem = message } }
    public var lastFailure: String? { current.withLock { $0.problem } }

    /// Worker `worker`'s view (call on that worker's thread; lock-free unless the set just changed).
    public func published(worker: Int) -> Published? {
        let mine = perWorker[worker]
        let newest = number.load(ordering: .acquiring)
        if let mine, mine.generation == newest { return mine }
        guard newest > 0 else { return nil }
        let fresh = current.withLock { $0.published }
        perWorker[worker] = fresh
        return fresh
    }

    /// The newest set, under the lock (the refresher, tests).
    public var latest: Published? { current.withLock { $0.published } }
}
