/// When a credential set may sign, and how long what it signs may live: until `expiration − margin`. A presigned
/// URL dies with the credentials that signed it, so the set stops signing one margin before it expires, and every
/// URL's expiry is clamped to that moment. The only place "expiry − margin" is written; the signer production
/// uses, the refresher and its `RefreshSchedule`, and the tests all ask this. Pure integer seconds; no clock.
public struct CredentialWindow: Sendable, Equatable {
    /// Epoch seconds; nil for credentials that never expire (static keys).
    public let expiration: Int64?
    /// Seconds before `expiration` at which the set stops signing.
    public let margin: Int64

    public init(expiration: Int64?, margin: Int64) {
        self.expiration = expiration
        self.margin = margin
    }

    /// The first second at which the set no longer signs; nil when it never stops. An end so far in the past that
    /// it cannot be written is `Int64.min` (never serving), not a trap.
    public var end: Int64? { expiration.map(minusMargin) }

    /// When its refresh should begin: one margin before `end`, so a failing source has a whole margin of retries
    /// before the set stops signing (`RefreshSchedule`); nil when it never stops. Saturates like `end`.
    public var refreshFrom: Int64? { end.map(minusMargin) }

    /// `time − margin`, held to `Int64.min`...`Int64.max` (a hostile expiry never traps).
    private func minusMargin(_ time: Int64) -> Int64 {
        let (result, overflow) = time.subtractingReportingOverflow(margin)
        return overflow ? (margin > 0 ? Int64.min : Int64.max) : result
    }

    /// Whether the set may sign at `now` (epoch seconds, fractional).
    public func isServing(at now: Double) -> Bool {
        guard let end else { return true }
        return now < Double(end)
    }

    public enum Outcome: Sendable, Equatable {
        /// The requested lifetime stands.
        case unchanged(Int64)
        /// Shortened to `to` seconds (from `requested`).
        case clamped(to: Int64, requested: Int64)
        /// The credentials cannot give the URL the rule's minimum (`available` seconds are left).
        case belowMinimum(available: Int64, minimum: Int64)
        /// Less than one second is left before the margin: the credentials cannot sign.
        case unavailable
    }

    /// `requested` seconds from `now`, kept at or before `end`; refused (`belowMinimum`) rather than shortened
    /// under the rule's `min_expires_in`.
    public func clamp(requested: Int64, now: Int64, minExpiresIn: Int64?) -> Outcome {
        guard let end else { return .unchanged(requested) }
        let available = end.subtractingReportingOverflow(now)
        guard !available.overflow else { return now > end ? .unavailable : .unchanged(requested) }
        guard available.partialValue >= 1 else { return .unavailable }
        if requested <= available.partialValue { return .unchanged(requested) }
        if let minExpiresIn, available.partialValue < minExpiresIn {
            return .belowMinimum(available: available.partialValue, minimum: minExpiresIn)
        }
        return .clamped(to: available.partialValue, requested: requested)
    }
}
