import Crypto
import Synchronization

/// Memoizes SigV4 derived signing keys per (secret, date, region, service): four HMACs saved on every signature
/// after the first of the day. Bounded: when full it starts over, since keys roll daily anyway.
public final class SigningKeyCache: Sendable {
    struct Key: Hashable {
        let secret: String
        let dateStamp: String
        let region: String
        let service: String
    }

    private let entries = Mutex<[Key: SymmetricKey]>([:])
    private let capacity: Int

    public init(capacity: Int = 256) {
        self.capacity = max(1, capacity)
    }

    /// The derived key, computed once per distinct input.
    public func signingKey(secret: String, dateStamp: String, region: String, service: String) -> SymmetricKey {
        let key = Key(secret: secret, dateStamp: dateStamp, region: region, service: service)
        if let hit = entries.withLock({ $0[key] }) { return hit }
        let derived = SigV4.signingKey(secret: secret, dateStamp: dateStamp, region: region, service: service)
        entries.withLock { table in
            if table.count >= capacity { table.removeAll(keepingCapacity: true) }
            table[key] = derived
        }
        return derived
    }

    /// How many keys are held; for tests.
    public var count: Int { entries.withLock { $0.count } }
}
