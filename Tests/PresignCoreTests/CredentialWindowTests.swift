import PresignCore
import Testing

/// expires_at = min(requested, credentials expiry − margin), in whole seconds.
struct CredentialWindowTests {
    static let now: Int64 = 1_795_000_000

    @Test func staticCredentialsAreNeverClamped() {
        #expect(CredentialWindow(expiration: nil, margin: 300).clamp(requested: 604_800, now: Self.now, minExpiresIn: 3600) == .unchanged(604_800))
    }

    @Test func withinTheCredentialsLifetimeNothingChanges() {
        #expect(CredentialWindow(expiration: Self.now + 600, margin: 300).clamp(requested: 300, now: Self.now, minExpiresIn: nil) == .unchanged(300))
    }

    @Test func overItIsClampedToExpiryMinusMargin() {
        #expect(CredentialWindow(expiration: Self.now + 600, margin: 300).clamp(requested: 3600, now: Self.now, minExpiresIn: nil)
            == .clamped(to: 300, requested: 3600))
        #expect(CredentialWindow(expiration: Self.now + 600, margin: 300).clamp(requested: 301, now: Self.now, minExpiresIn: 300)
            == .clamped(to: 300, requested: 301))
    }

    @Test func belowTheRuleMinimumIsRefused() {
        #expect(CredentialWindow(expiration: Self.now + 600, margin: 300).clamp(requested: 3600, now: Self.now, minExpiresIn: 301)
            == .belowMinimum(available: 300, minimum: 301))
    }

    @Test func nothingLeftIsUnavailable() {
        #expect(CredentialWindow(expiration: Self.now + 300, margin: 300).clamp(requested: 10, now: Self.now, minExpiresIn: nil) == .unavailable)
        #expect(CredentialWindow(expiration: Self.now - 5, margin: 300).clamp(requested: 10, now: Self.now, minExpiresIn: nil) == .unavailable)
        #expect(CredentialWindow(expiration: Self.now + 301, margin: 300).clamp(requested: 1, now: Self.now, minExpiresIn: nil) == .unchanged(1))
    }

    @Test func extremeValuesDoNotTrap() {
        // An expiry so far in the past that expiry − margin cannot be written never serves (it used to sign).
        #expect(CredentialWindow(expiration: Int64.min, margin: 300).clamp(requested: 60, now: Self.now, minExpiresIn: nil) == .unavailable)
        #expect(!CredentialWindow(expiration: Int64.min, margin: 300).isServing(at: Double(Self.now)))
        #expect(CredentialWindow(expiration: Int64.max - 1, margin: 1).clamp(requested: 60, now: Int64.min, minExpiresIn: nil) == .unchanged(60))
    }

    @Test func servingStopsExactlyAtExpiryMinusMargin() {
        let window = CredentialWindow(expiration: Self.now + 600, margin: 300)
        #expect(window.isServing(at: Double(Self.now + 299) + 0.999))
        #expect(!window.isServing(at: Double(Self.now + 300)))
        #expect(CredentialWindow(expiration: nil, margin: 300).isServing(at: 1e18))
    }
}
