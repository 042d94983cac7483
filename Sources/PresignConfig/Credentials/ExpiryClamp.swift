/// A presigned URL dies with the credentials that signed it. The clamp keeps every URL's expiry at or before
/// `credentials expiry − margin`, says so when it applied, and refuses (503) rather than hand out a URL shorter
/// than the rule's `min_expires_in`. Pure integer seconds.
public enum ExpiryClamp {
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

    /// `requested` seconds from `now`, with credentials expiring at `expiration` (nil: never; no clamp).
    public static func apply(requested: Int64, now: Int64, expiration: Int64?, margin: Int64, minExpiresIn: Int64?) -> Outcome {
        guard let expiration else { return .unchanged(requested) }
        let (limit, overflow) = expiration.subtractingReportingOverflow(margin)
        guard !overflow else { return .unchanged(requested) }
        let available = limit.subtractingReportingOverflow(now)
        guard !available.overflow else { return .unchanged(requested) }
        guard available.partialValue >= 1 else { return .unavailable }
        if requested <= available.partialValue { return .unchanged(requested) }
        if let minExpiresIn, available.partialValue < minExpiresIn {
            return .belowMinimum(available: available.partialValue, minimum: minExpiresIn)
        }
        return .clamped(to: available.partialValue, requested: requested)
    }
}
