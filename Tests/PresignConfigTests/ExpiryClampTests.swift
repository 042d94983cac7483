import PresignConfig
import Testing

/// expires_at = min(requested, credentials expiry − margin), in whole seconds.
struct ExpiryClampTests {
    static let now: Int64 = 1_795_000_000

    @Test func staticCredentialsAreNeverClamped() {
        #expect(ExpiryClamp.apply(requested: 604_800, now: Self.now, expiration: nil, margin: 300, minExpiresIn: 3600) == .unchanged(604_800))
    }

    @Test func withinTheCredentialsLifetimeNothingChanges() {
        #expect(ExpiryClamp.apply(requested: 300, now: Self.now, expiration: Self.now + 600, margin: 300, minExpiresIn: nil) == .unchanged(300))
    }

    @Test func overItIsClampedToExpiryMinusMargin() {
        #expect(ExpiryClamp.apply(requested: 3600, now: Self.now, expiration: Self.now + 600, margin: 300, minExpiresIn: nil)
            == .clamped(to: 300, requested: 3600))
        #expect(ExpiryClamp.apply(requested: 301, now: Self.now, expiration: Self.now + 600, margin: 300, minExpiresIn: 300)
            == .clamped(to: 300, requested: 301))
    }

    @Test func belowTheRuleMinimumIsRefused() {
        #expect(ExpiryClamp.apply(requested: 3600, now: Self.now, expiration: Self.now + 600, margin: 300, minExpiresIn: 301)
            == .belowMinimum(available: 300, minimum: 301))
    }

    @Test func nothingLeftIsUnavailable() {
        #expect(ExpiryClamp.apply(requested: 10, now: Self.now, expiration: Self.now + 300, margin: 300, minExpiresIn: nil) == .unavailable)
        #expect(ExpiryClamp.apply(requested: 10, now: Self.now, expiration: Self.now - 5, margin: 300, minExpiresIn: nil) == .unavailable)
        #expect(ExpiryClamp.apply(requested: 1, now: Self.now, expiration: Self.now + 301, margin: 300, minExpiresIn: nil) == .unchanged(1))
    }

    @Test func extremeValuesDoNotTrap() {
        #expect(ExpiryClamp.apply(requested: 60, now: Self.now, expiration: Int64.min, margin: 300, minExpiresIn: nil) == .unchanged(60))
        #expect(ExpiryClamp.apply(requested: 60, now: Int64.min, expiration: Int64.max - 1, margin: 1, minExpiresIn: nil) == .unchanged(60))
    }
}
