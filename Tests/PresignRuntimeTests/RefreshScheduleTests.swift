import PresignConfig
import PresignRuntime
import PresignCore
import Testing

/// The refresh schedule as a state machine over an injected clock: when it fetches, how it backs off, and when the
/// set in use stops serving.
struct RefreshScheduleTests {
    static let e0: Int64 = 1_795_000_000
    static let t0 = Double(e0)
    static let settings = RefreshSchedule.Settings(margin: 300, maxJitter: 60, minBackoff: 1, maxBackoff: 60, minInterval: 1)

    @Test func fetchesAtOnceThenOneMarginBeforeTheMarginMinusJitter() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        #expect(s.isDue(now: Self.t0))
        s.began()
        #expect(!s.isDue(now: Self.t0 + 10_000))
        s.succeeded(expiration: Self.e0 + 900, now: Self.t0, random: 0)
        #expect(s.nextAttempt == Self.t0 + 300)
        var jittered = RefreshSchedule(settings: Self.settings, now: Self.t0)
        jittered.began()
        jittered.succeeded(expiration: Self.e0 + 900, now: Self.t0, random: 1)
        #expect(jittered.nextAttempt == Self.t0 + 240)
        #expect(!jittered.isDue(now: Self.t0 + 239.9))
        #expect(jittered.isDue(now: Self.t0 + 240))
    }

    @Test func jitterIsAtMostAQuarterOfTheTimeLeft() {
        var s = RefreshSchedule(settings: .init(margin: 5, maxJitter: 60), now: Self.t0)
        s.began()
        s.succeeded(expiration: Self.e0 + 14, now: Self.t0, random: 1)
        #expect(s.nextAttempt == Self.t0 + 3)
    }

    @Test func aSetAlreadyInsideTheMarginIsRetriedAfterTheMinimumInterval() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        s.began()
        s.succeeded(expiration: Self.e0 + 100, now: Self.t0, random: 0.5)
        #expect(s.nextAttempt == Self.t0 + 1)
        #expect(!s.isServing(now: Self.t0))
    }

    @Test func aSetInsideTheRefreshWindowIsFetchedAgainAfterAQuarterOfWhatItServes() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        s.began()
        s.succeeded(expiration: Self.e0 + 500, now: Self.t0, random: 1)
        #expect(s.nextAttempt == Self.t0 + 50)
        #expect(s.isServing(now: Self.t0 + 199))
        s.began()
        s.succeeded(expiration: Self.e0 + 3600, now: Self.t0, random: 0)
        #expect(s.nextAttempt == Self.t0 + 3000)
        var short = RefreshSchedule(settings: .init(margin: 5), now: Self.t0)
        short.began()
        short.succeeded(expiration: Self.e0 + 12, now: Self.t0, random: 0)
        #expect(short.nextAttempt == Self.t0 + 2)
        short.began()
        short.succeeded(expiration: Self.e0 + 9, now: Self.t0, random: 0)
        #expect(short.nextAttempt == Self.t0 + 1)
    }

    /// The shared backoff: each wait is drawn from the upper half of a step that doubles to the cap.
    @Test func failuresBackOffDoublingToTheCap() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        var now = Self.t0
        var waits: [Double] = []
        var highest = FixedRandom(value: UInt64.max)
        var lowest = FixedRandom(value: 0)
        for attempt in 0..<9 {
            s.began()
            if attempt < 7 { s.failed(now: now, using: &highest) } else { s.failed(now: now, using: &lowest) }
            waits.append(s.nextAttempt! - now)
            now = s.nextAttempt!
        }
        #expect(waits == [1, 2, 4, 8, 16, 32, 60, 30, 30])
        #expect(s.failures == 9)
        s.began()
        s.succeeded(expiration: Int64(now) + 900, now: now, random: 0)
        #expect(s.failures == 0)
        #expect(s.nextAttempt == now + 300)
    }

    @Test func keepsTheOldSetUntilTheMarginThenStopsServing() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        #expect(!s.isServing(now: Self.t0))
        s.began()
        s.succeeded(expiration: Self.e0 + 900, now: Self.t0, random: 0)
        var now = s.nextAttempt!
        var random = FixedRandom(value: 0)
        #expect(now == Self.t0 + 300)
        while now < Self.t0 + 700 {
            #expect(s.isDue(now: now))
            s.began()
            s.failed(now: now, using: &random)
            #expect(s.isServing(now: now) == (now < Self.t0 + 600))
            now = s.nextAttempt!
        }
        #expect(s.isServing(now: Self.t0 + 599.999))
        #expect(!s.isServing(now: Self.t0 + 600))
        #expect(s.expiration == Self.e0 + 900)
        s.began()
        s.succeeded(expiration: Int64(now) + 900, now: now, random: 0)
        #expect(s.isServing(now: now))
    }

    @Test func aSetWithoutExpiryWaitsForAChange() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0, current: (expiration: nil, random: 0))
        #expect(s.nextAttempt == nil)
        #expect(!s.isDue(now: Self.t0 + 1e9))
        #expect(s.isServing(now: Self.t0 + 1e9))
        s.changed(now: Self.t0 + 5)
        #expect(s.isDue(now: Self.t0 + 5))
    }

    @Test func aChangeDuringAFetchFetchesAgainRightAfter() {
        var s = RefreshSchedule(settings: Self.settings, now: Self.t0)
        s.began()
        s.changed(now: Self.t0 + 1)
        #expect(!s.isDue(now: Self.t0 + 1))
        s.succeeded(expiration: nil, now: Self.t0 + 2, random: 0)
        #expect(s.isDue(now: Self.t0 + 2))
        s.began()
        s.changed(now: Self.t0 + 3)
        var random = FixedRandom(value: 0)
        s.failed(now: Self.t0 + 4, using: &random)
        #expect(s.nextAttempt == Self.t0 + 4)
    }
}
