#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex. `Synchronization.Mutex` is the first choice, but ThreadSanitizer on this
/// toolchain does not see its ordering and reports every contended access as a race; state that several worker
/// loops touch under contention (a JWKS key set's schedule and waiters) uses this instead, so `make test-tsan`
/// checks it for real. `@unchecked Sendable`: every access to `value` is inside `withLock`.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var value: Value

    public init(_ value: Value) {
        self.value = value
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
