import PresignCore
import PresignRuntime
import Testing

/// Expiries a source may hand out that floating-point "expiry − margin" got wrong: long past, the `Int64` edges,
/// further than any clock. The schedule asks its `CredentialWindow` (the one place the margin is subtracted), so it
/// stops serving exactly when the signers do, and every time it hands out is finite, after `now` and within
/// `Int64` (the refresher logs it as `SigningTime(epochSeconds: Int64(next))`). NaN and infinities cannot be
/// written: an expiry is `Int64` seconds.
struct RefreshScheduleHostileExpiryTests {
    static let now = 1_795_000_000.0
    static let expirations: [Int64] = [
        .min, .min + 1, -1, 0, 1_794_999_999, 1_795_000_000, 1_795_000_300, 1_795_000_601, 253_402_300_799,
        .max / 2, .max - 600, .max - 1, .max,
    ]

    static func scheduled(_ expiration: Int64, margin: Int64, random: Double) -> RefreshSchedule {
        var schedule = RefreshSchedule(settings: .init(margin: margin, maxJitter: 60), now: now)
        schedule.began()
        schedule.succeeded(expiration: expiration, now: now, random: random)
        return schedule
    }

    @Test(arguments: expirations, [Int64(1), 300, 3600])
    func everyExpiryGetsARepresentableTimeAndTheWindowsAnswer(expiration: Int64, margin: Int64) throws {
        let window = CredentialWindow(expiration: expiration, margin: margin)
        for random in [0.0, 0.5, 1.0] {
            let schedule = Self.scheduled(expiration, margin: margin, random: random)
            let next = try #require(schedule.nextAttempt)
            #expect(next.isFinite)
            #expect(next >= Self.now + 1)
            #expect(next <= RefreshSchedule.horizon)
            #expect(Int64(exactly: next.rounded(.down)) != nil)
            for probe in [Self.now, next, Self.now + 1e15, 0x1p62, 0x1p63, -0x1p63] {
                #expect(schedule.isServing(now: probe) == window.isServing(at: probe), "at \(probe)")
            }
        }
    }

    @Test func theEdgesAreExact() throws {
        // Already expired, or so long ago that "expiry − margin" overflows: never serving, fetched again after the
        // minimum interval.
        for expiration: Int64 in [.min, .min + 1, 0, 1_795_000_000] {
            let schedule = Self.scheduled(expiration, margin: 300, random: 1)
            #expect(!schedule.isServing(now: Self.now))
            #expect(schedule.nextAttempt == Self.now + 1)
        }
        // Further than any clock: serving, refreshed at the horizon less the jitter.
        for expiration: Int64 in [.max, .max - 1, .max - 600] {
            let schedule = Self.scheduled(expiration, margin: 300, random: 1)
            #expect(schedule.isServing(now: Self.now))
            #expect(schedule.isServing(now: 0x1p62))
            #expect(schedule.nextAttempt == RefreshSchedule.horizon - 60)
        }
        // The year 9999 (the latest an ISO 8601 expiry can say): one margin before the window ends, less the jitter.
        let far = Self.scheduled(253_402_300_799, margin: 300, random: 1)
        #expect(far.nextAttempt == Double(253_402_300_799 - 600 - 60))
        #expect(far.isServing(now: 253_402_300_498.5))
        #expect(!far.isServing(now: 253_402_300_499))
    }
}
