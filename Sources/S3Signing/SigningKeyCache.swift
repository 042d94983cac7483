import Crypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Memoizes SigV4 derived signing keys per (secret, date, region, service): four HMACs saved on every signature
/// after the first of the day. It keeps the HMAC already keyed with the derived key, so a signature costs one
/// copy and one pass over the string to sign. Bounded: when full it starts over, since keys roll daily anyway.
/// Shared by every worker that signs with the backend, so its table is behind a pthread mutex: one ThreadSanitizer
/// intercepts (with the Synchronization module's Mutex it reported the guarded reads and writes as a race under
/// `make test-tsan`).
public final class SigningKeyCache: @unchecked Sendable {
    struct Key: Hashable {
        let secret: String
        let dateStamp: String
        let region: String
        let service: String
    }

    struct Entry {
        let key: SymmetricKey
        let mac: HMAC<SHA256>
    }

    struct State {
        var table: [Key: Entry] = [:]
        var last: (Key, Entry)?
    }

    private var state = State()
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let capacity: Int

    public init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    private func withLock<Result>(_ body: (inout State) -> Result) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(&state)
    }

    func entry(secret: String, dateStamp: String, region: String, service: String) -> Entry {
        let key = Key(secret: secret, dateStamp: dateStamp, region: region, service: service)
        let hit: Entry? = withLock { state in
            if let last = state.last, last.0 == key { return last.1 }
            guard let found = state.table[key] else { return nil }
            state.last = (key, found)
            return found
        }
        if let hit { return hit }
        let derived = SigV4.signingKey(secret: secret, dateStamp: dateStamp, region: region, service: service)
        let entry = Entry(key: derived, mac: HMAC<SHA256>(key: derived))
        withLock { state in
            if state.table.count >= capacity { state.table.removeAll(keepingCapacity: true) }
            state.table[key] = entry
            state.last = (key, entry)
        }
        return entry
    }

    /// The derived key, computed once per distinct input.
    public func signingKey(secret: String, dateStamp: String, region: String, service: String) -> SymmetricKey {
        entry(secret: secret, dateStamp: dateStamp, region: region, service: service).key
    }

    /// How many keys are held; for tests.
    public var count: Int { withLock { $0.table.count } }
}
