import Testing
import UVLoop
import TestSupport

/// A generator that always draws `value`: 0 picks a range's lowest delay, `.max` its highest.
struct FixedRandom: RandomNumberGenerator {
    let value: UInt64
    mutating func next() -> UInt64 { value }
}

/// The one retry schedule (Redis, credential refresh, JWKS): exact ranges per attempt, the cap, and draws.
struct BackoffTests {
    let redis = Backoff(initialMillis: 50, capMillis: 2000)

    @Test func eachAttemptDoublesTheBaseUpToTheCapAndWaitsInItsUpperHalf() {
        let ranges = (0..<8).map { redis.range(attempt: $0) }
        #expect(ranges == [25...50, 50...100, 100...200, 200...400, 400...800, 800...1600, 1000...2000, 1000...2000])
    }

    @Test func hugeAndNegativeAttemptsStayInRange() {
        #expect(redis.range(attempt: 63) == 1000...2000)
        #expect(redis.range(attempt: 10_000) == 1000...2000)
        #expect(redis.range(attempt: -5) == 25...50)
        let wide = Backoff(initialMillis: 3, capMillis: .max)
        #expect(wide.base(attempt: 62) == 3 << 62)
        #expect(wide.base(attempt: 63) == .max)  // 3 << 63 would overflow: the cap instead
        #expect(Backoff(initialMillis: 1, capMillis: 1).range(attempt: 5) == 1...1)
    }

    @Test func theRandomSourcePicksWithinTheRange() {
        var lowest = FixedRandom(value: 0)
        var highest = FixedRandom(value: .max)
        #expect((0..<8).map { redis.delay(attempt: $0, using: &lowest) } == [25, 50, 100, 200, 400, 800, 1000, 1000])
        #expect((0..<8).map { redis.delay(attempt: $0, using: &highest) } == [50, 100, 200, 400, 800, 1600, 2000, 2000])
    }

    /// Seeded draws stay in their attempt's range and spread over it (workers that failed together part).
    @Test func seededDrawsSpreadOverTheRange() {
        var random = SplitMix64(seed: 42)
        var atCap = Set<UInt64>()
        for attempt in 0..<200 {
            let wait = redis.delay(attempt: attempt % 10, using: &random)
            #expect(redis.range(attempt: attempt % 10).contains(wait))
            if attempt % 10 >= 6 { atCap.insert(wait) }
        }
        #expect(atCap.count > 40)
    }
}

extension BackoffTests {
    /// A constant generator still gets an answer (the standard library's ranged draw rejects and redraws, which
    /// never ends on a constant source), and each value maps to one delay.
    @Test func everyGeneratorValueGivesADelay() {
        for value: UInt64 in [0, 1, 1 << 63, .max - 1, .max] {
            var constant = FixedRandom(value: value)
            #expect(redis.range(attempt: 3).contains(redis.delay(attempt: 3, using: &constant)))
        }
        var half = FixedRandom(value: 1 << 63)
        #expect(redis.delay(attempt: 0, using: &half) == 25 + 13)  // the middle of 25...50 (26 values)
    }
}
