import Crypto
import Synchronization

/// Memoizes SigV4 derived signing keys per (secret, date, region, service): four HMACs saved on every signature
/// after the first of the day. It keeps the HMAC already keyed with the derived key, so a signature costs one
/// copy and one pass over the string to sign. Bounded: when full it starts over, since keys roll daily anyway.
public final class SigningKeyCache: Sendable {
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

    private let state = Mutex(State())
    private let capacity: Int

    public init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
    }

    func entry(secret: String, dateStamp: String, region: String, service: String) -> Entry {
        let key = Key(secret: secret, dateStamp: dateStamp, region: region, service: service)
        let hit: Entry? = state.withLock { state in
            if let last = state.last, last.0 == key { return last.1 }
            guard let found = state.table[key] else { return nil }
            state.last = (key, found)
            return found
        }
        if let hit { return hit }
        let derived = SigV4.signingKey(secret: secret, dateStamp: dateStamp, region: region, service: service)
        let entry = Entry(key: derived, mac: HMAC<SHA256>(key: derived))
        state.withLock { state in
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
    public var count: Int { state.withLock { $0.table.count } }
}
