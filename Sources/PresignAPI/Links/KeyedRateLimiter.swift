import HTTPServer
import PresignConfig
import UVLoop

/// Token buckets by key (a client address, a link), one table per worker loop, each touched only by its own loop,
/// as `RateLimiter` does for callers: a local limit is therefore `per_second × workers × replicas` at most.
///
/// The keys come from anonymous clients, so each table is bounded: at `capacity` keys, the buckets that have
/// filled up again are dropped first (a full bucket and no bucket are the same), then the least recently touched,
/// an eighth of the table at a time so the scan is paid once per `capacity / 8` new keys. Only a client with more
/// than `capacity` addresses in play can see one of its drained buckets forgotten, and it had that many fresh
/// buckets anyway.
final class KeyedRateLimiter: Sendable {
    private let rows: PerWorker<[[UInt8]: RateLimiter.Bucket]>
    let capacity: Int

    /// Each worker's last key made by `key(for:worker:make:)`, and what it was made from.
    private let lastKeys: PerWorker<(source: String, key: [UInt8])?>

    init(workers: Int, capacity: Int = 16_384) {
        rows = PerWorker(count: max(workers, 1)) { _ in [:] }
        lastKeys = PerWorker(count: max(workers, 1)) { _ in nil }
        self.capacity = max(8, capacity)
    }

    /// `make(source)`, remembered for the next call with the same `source` on this worker: a keep-alive client asks
    /// from one address again and again, and parsing it costs more than the bucket.
    func key(for source: String, worker: Int, make: (String) -> [UInt8]) -> [UInt8] {
        lastKeys.withValue(worker) { last in
            if let last, last.source == source { return last.key }
            let key = make(source)
            last = (source, key)
            return key
        }
    }

    /// Takes one token from `key`'s bucket on this worker. Call only on the thread of worker `worker`.
    func take(_ key: [UInt8], limit: Caller.RateLimit, worker: Int, nowNanos: UInt64) -> RateLimiter.Decision {
        rows.withValue(worker) { table in
            var bucket = table[key] ?? RateLimiter.Bucket(tokens: limit.burst, updatedNanos: nowNanos)
            bucket.tokens = Self.refilled(bucket, limit: limit, nowNanos: nowNanos)
            bucket.updatedNanos = max(bucket.updatedNanos, nowNanos)
            if table[key] == nil && table.count >= capacity { Self.evict(&table, limit: limit, nowNanos: nowNanos, target: capacity - capacity / 8) }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                table[key] = bucket
                return .allowed
            }
            table[key] = bucket
            return .limited(retryAfter: RateLimiter.retryAfter(missing: 1 - bucket.tokens, perSecond: limit.perSecond))
        }
    }

    /// Takes one token from `key`'s bucket before it is known whether the key deserves one (a link not yet read):
    /// true when that made the bucket, false when it was there; nil, with nothing changed, when the bucket is empty
    /// or a new one would evict others (then `take` decides, once the key is known). `giveBack` undoes it.
    func reserve(_ key: [UInt8], limit: Caller.RateLimit, worker: Int, nowNanos: UInt64) -> Bool? {
        rows.withValue(worker) { table in
            guard var bucket = table[key] else {
                guard table.count < capacity, limit.burst >= 1 else { return nil }
                table[key] = RateLimiter.Bucket(tokens: limit.burst - 1, updatedNanos: nowNanos)
                return true
            }
            bucket.tokens = Self.refilled(bucket, limit: limit, nowNanos: nowNanos)
            guard bucket.tokens >= 1 else { return nil }
            bucket.tokens -= 1
            bucket.updatedNanos = max(bucket.updatedNanos, nowNanos)
            table[key] = bucket
            return false
        }
    }

    /// Gives back the token `reserve` took (the key turned out to deserve no bucket); a bucket it made that is
    /// full again is forgotten, so the table holds no key of a link that does not exist.
    func giveBack(_ key: [UInt8], made: Bool, limit: Caller.RateLimit, worker: Int, nowNanos: UInt64) {
        rows.withValue(worker) { table in
            guard var bucket = table[key] else { return }
            bucket.tokens = min(limit.burst, Self.refilled(bucket, limit: limit, nowNanos: nowNanos) + 1)
            bucket.updatedNanos = max(bucket.updatedNanos, nowNanos)
            table[key] = made && bucket.tokens >= limit.burst ? nil : bucket
        }
    }

    /// Keys held by worker `worker` (tests).
    func count(worker: Int) -> Int { rows[worker].count }

    static func refilled(_ bucket: RateLimiter.Bucket, limit: Caller.RateLimit, nowNanos: UInt64) -> Double {
        guard nowNanos > bucket.updatedNanos else { return bucket.tokens }
        return min(limit.burst, bucket.tokens + Double(nowNanos - bucket.updatedNanos) / 1e9 * limit.perSecond)
    }

    /// Shrinks `table` to `target` keys: refilled buckets first, then the least recently touched.
    static func evict(_ table: inout [[UInt8]: RateLimiter.Bucket], limit: Caller.RateLimit, nowNanos: UInt64, target: Int) {
        table = table.filter { refilled($0.value, limit: limit, nowNanos: nowNanos) < limit.burst }
        guard table.count > target else { return }
        let oldest = table.sorted { $0.value.updatedNanos < $1.value.updatedNanos }.prefix(table.count - target)
        for (key, _) in oldest { table[key] = nil }
    }
}
