@testable import PresignAPI
@testable import PresignConfig
import Testing

/// The `/l/{id}` buckets: a burst, then one token per `1/per_second`, per key and per worker, in a table that
/// never holds more than its capacity.
struct KeyedRateLimiterTests {
    static let limit = Caller.RateLimit(perSecond: 2, burst: 3)

    @Test func aKeyGetsItsBurstThenWaitsForTheRefill() {
        let limiter = KeyedRateLimiter(workers: 2)
        for _ in 0..<3 { #expect(limiter.take([1], limit: Self.limit, worker: 0, nowNanos: 0) == .allowed) }
        #expect(limiter.take([1], limit: Self.limit, worker: 0, nowNanos: 0) == .limited(retryAfter: 1))
        // Other keys and other workers have their own buckets.
        #expect(limiter.take([2], limit: Self.limit, worker: 0, nowNanos: 0) == .allowed)
        #expect(limiter.take([1], limit: Self.limit, worker: 1, nowNanos: 0) == .allowed)
        // Half a second is one token at 2 per second.
        #expect(limiter.take([1], limit: Self.limit, worker: 0, nowNanos: 499_999_999) == .limited(retryAfter: 1))
        #expect(limiter.take([1], limit: Self.limit, worker: 0, nowNanos: 500_000_000) == .allowed)
        #expect(limiter.take([1], limit: Self.limit, worker: 0, nowNanos: 500_000_000) == .limited(retryAfter: 1))
        let slow = Caller.RateLimit(perSecond: 0.1, burst: 1)
        #expect(limiter.take([9], limit: slow, worker: 0, nowNanos: 0) == .allowed)
        #expect(limiter.take([9], limit: slow, worker: 0, nowNanos: 0) == .limited(retryAfter: 10))
    }

    @Test func theTableStaysWithinItsCapacityAndForgetsRefilledBucketsFirst() {
        let limiter = KeyedRateLimiter(workers: 1, capacity: 64)
        // A drained key, then 200 other keys at the same instant: the table never passes 64 keys.
        for _ in 0..<3 { _ = limiter.take([0, 0], limit: Self.limit, worker: 0, nowNanos: 0) }
        for key in 1...200 {
            _ = limiter.take([UInt8(key)], limit: Self.limit, worker: 0, nowNanos: UInt64(key))
            #expect(limiter.count(worker: 0) <= 64)
        }
        // The drained key was the least recently touched: forgotten. A key drained recently is kept while the others
        // (refilled a few seconds later) go first.
        let fresh = KeyedRateLimiter(workers: 1, capacity: 64)
        for key in 0..<63 { _ = fresh.take([UInt8(key)], limit: Self.limit, worker: 0, nowNanos: 0) }
        for _ in 0..<3 { _ = fresh.take([7, 7], limit: Self.limit, worker: 0, nowNanos: 10_000_000_000) }
        _ = fresh.take([8, 8], limit: Self.limit, worker: 0, nowNanos: 10_000_000_000)
        #expect(fresh.count(worker: 0) == 2)
        #expect(fresh.take([7, 7], limit: Self.limit, worker: 0, nowNanos: 10_000_000_000) == .limited(retryAfter: 1))
    }
}
