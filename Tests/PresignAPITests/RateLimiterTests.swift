@testable import PresignAPI
@testable import PresignConfig
import Testing

/// The token bucket's arithmetic at the edges of what a config can say.
struct RateLimiterTests {
    @Test(arguments: [
        (1.0, 1.0, 1), (1.0, 0.5, 2), (0.5, 1e-19, 86_400), (1.0, 1e-300, 86_400), (1.0, 0.0, 86_400),
        (1.0, Double.nan, 86_400), (Double.infinity, 1.0, 86_400), (1e-12, 1e12, 1), (0.0, 1.0, 1), (86_401, 1.0, 86_400),
    ])
    func retryAfterIsAWholeNumberOfSecondsFromOneToADay(_ missing: Double, _ perSecond: Double, _ expected: Int) {
        #expect(RateLimiter.retryAfter(missing: missing, perSecond: perSecond) == expected)
    }

    @Test func aTinyRateAnswersTheSecondRequestWithADayNotATrap() {
        let caller = Caller(name: "c", index: 0, auth: .apiKey(digest: []), rateLimit: .init(perSecond: 1e-19, burst: 1), rules: [])
        let limiter = RateLimiter(callers: [caller], workers: 2)
        #expect(limiter.take(caller: 0, worker: 1, nowNanos: 1) == .allowed)
        #expect(limiter.take(caller: 0, worker: 1, nowNanos: 2) == .limited(retryAfter: 86_400))
        // Worker 0 has its own bucket.
        #expect(limiter.take(caller: 0, worker: 0, nowNanos: 3) == .allowed)
    }
}
