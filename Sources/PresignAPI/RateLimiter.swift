/// Token buckets, one per caller per worker loop. Each worker touches only its own row, so there is no lock and no
/// state shared between loops; a fleet-wide limit is therefore `per_second × workers × replicas` at most.
public final class RateLimiter: @unchecked Sendable {
    struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    private var rows: [[Bucket?]]
    private let limits: [Caller.RateLimit?]

    public init(callers: [Caller], workers: Int) {
        limits = callers.map(\.rateLimit)
        rows = Array(repeating: Array(repeating: nil, count: callers.count), count: max(workers, 1))
    }

    public enum Decision: Equatable {
        case allowed
        /// Seconds until one token is back (for Retry-After, rounded up, at least 1).
        case limited(retryAfter: Int)
    }

    /// Takes `cost` tokens for the caller on this worker. `nowNanos` is a monotonic clock.
    public func take(caller: Int, worker: Int, cost: Double = 1, nowNanos: UInt64) -> Decision {
        guard let limit = limits[caller] else { return .allowed }
        let row = worker % rows.count
        var bucket = rows[row][caller] ?? Bucket(tokens: limit.burst, updatedNanos: nowNanos)
        if nowNanos > bucket.updatedNanos {
            let elapsed = Double(nowNanos - bucket.updatedNanos) / 1e9
            bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
            bucket.updatedNanos = nowNanos
        }
        if bucket.tokens >= cost {
            bucket.tokens -= cost
            rows[row][caller] = bucket
            return .allowed
        }
        rows[row][caller] = bucket
        let wait = (cost - bucket.tokens) / limit.perSecond
        return .limited(retryAfter: max(1, Int(wait.rounded(.up))))
    }
}
