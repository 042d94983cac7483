@testable import PresignAPI
@testable import PresignConfig
import Testing
import TestSupport

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

    /// A reservation is a take that can be given back: a seeded run of reserve/giveBack/take on one limiter answers
    /// every later `take` as a limiter that never saw the given-back reservations, and leaves no key of its own.
    @Test func aReservationGivenBackLeavesTheBucketsAsIfNeverTaken() {
        var random = SplitMix64(seed: 23)
        let limiter = KeyedRateLimiter(workers: 1)
        let reference = KeyedRateLimiter(workers: 1)
        var now: UInt64 = 0
        for _ in 0..<2_000 {
            // Quarter seconds at 2 per second: every bucket holds halves, so no sum is rounded.
            now += random.next() % 3 * 250_000_000
            let key: [UInt8] = [UInt8(random.next() % 4)]
            if random.next() % 2 == 0 {
                // A link that exists: its token stays taken, as `take` would have taken it.
                switch limiter.reserve(key, limit: Self.limit, worker: 0, nowNanos: now) {
                case nil: #expect(reference.take(key, limit: Self.limit, worker: 0, nowNanos: now) != .allowed)
                case .some: #expect(reference.take(key, limit: Self.limit, worker: 0, nowNanos: now) == .allowed)
                }
            } else if let made = limiter.reserve(key, limit: Self.limit, worker: 0, nowNanos: now) {
                // No such link: the token goes back, and `take` was never called on the reference.
                limiter.giveBack(key, made: made, limit: Self.limit, worker: 0, nowNanos: now)
            }
        }
        for key in 0..<4 as Range<UInt8> {
            #expect(limiter.take([key], limit: Self.limit, worker: 0, nowNanos: now) == reference.take([key], limit: Self.limit, worker: 0, nowNanos: now))
        }
        // A key only ever given back is not kept once its bucket is full again.
        let fresh = KeyedRateLimiter(workers: 1)
        let made = fresh.reserve([42], limit: Self.limit, worker: 0, nowNanos: 0)
        #expect(made == true)
        fresh.giveBack([42], made: true, limit: Self.limit, worker: 0, nowNanos: 0)
        #expect(fresh.count(worker: 0) == 0)
        // An empty bucket, or a new key in a full table, is not reserved: nothing changes.
        let full = KeyedRateLimiter(workers: 1, capacity: 8)
        for key in 0..<8 as Range<UInt8> { _ = full.take([key], limit: Self.limit, worker: 0, nowNanos: 0) }
        #expect(full.reserve([99], limit: Self.limit, worker: 0, nowNanos: 0) == nil)
        #expect(full.count(worker: 0) == 8)
        for _ in 0..<2 { _ = full.take([0], limit: Self.limit, worker: 0, nowNanos: 0) }
        #expect(full.reserve([0], limit: Self.limit, worker: 0, nowNanos: 0) == nil)
    }
}
