import PresignConfig
import HTTPServer
import UVLoop

/// Token buckets, one per caller per worker loop. Each worker touches only its own row (a `PerWorker` box), so
/// there is no lock and no state shared between loops; a fleet-wide limit is therefore
/// `per_second × workers × replicas` at most.
public final class RateLimiter: Sendable {
    struct Bucket {
        var tokens: Double
        var updatedNanos: UInt64
    }

    private let rows: PerWorker<[Bucket?]>
    private let limits: [Caller.RateLimit?]
    /// The longest Retry-After ever answered (a day): whatever the configured rate, the header stays a small integer.
    static let maxRetryAfter = 86_400

    public init(callers: [Caller], workers: Int) {
        limits = callers.map(\.rateLimit)
        let count = callers.count
        rows = PerWorker(count: max(workers, 1)) { _ in Array(repeating: nil, count: count) }
    }

    public enum Decision: Equatable {
        case allowed
        /// Seconds until one token is back (for Retry-After, rounded up, 1...86400).
        case limited(retryAfter: Int)
    }

    /// Takes `cost` tokens for the caller on this worker. `nowNanos` is a monotonic clock. Call it only on the
    /// thread of worker `worker`.
    public func take(caller: Int, worker: Int, cost: Double = 1, nowNanos: UInt64) -> Decision {
        guard let limit = limits[caller] else { return .allowed }
        return rows.withValue(worker) { row in
            var bucket = row[caller] ?? Bucket(tokens: limit.burst, updatedNanos: nowNanos)
            if nowNanos > bucket.updatedNanos {
                let elapsed = Double(nowNanos - bucket.updatedNanos) / 1e9
                bucket.tokens = min(limit.burst, bucket.tokens + elapsed * limit.perSecond)
                bucket.updatedNanos = nowNanos
            }
            if bucket.tokens >= cost {
                bucket.tokens -= cost
                row[caller] = bucket
                return .allowed
            }
            row[caller] = bucket
            return .limited(retryAfter: Self.retryAfter(missing: cost - bucket.tokens, perSecond: limit.perSecond))
        }
    }

    /// Whole seconds until `missing` tokens refill at `perSecond`, in 1...maxRetryAfter whatever the inputs (a
    /// rate of 1e-19 would otherwise give a wait no `Int` holds).
    static func retryAfter(missing: Double, perSecond: Double) -> Int {
        let wait = missing / perSecond
        guard wait.isFinite, wait > 0 else { return wait > 0 || wait.isNaN ? maxRetryAfter : 1 }
        if wait >= Double(maxRetryAfter) { return maxRetryAfter }
        return max(1, Int(wait.rounded(.up)))
    }
}
