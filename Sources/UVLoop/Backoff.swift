/// The one retry schedule (Redis reconnects, credential refreshes, JWKS fetches): a pure value, in milliseconds.
///
/// Failed attempt n (0 for the first failure) waits a delay drawn from `range(attempt: n)`: the base doubles per
/// attempt from `initial` up to `cap`, and the wait is drawn from the base's upper half, `base/2 ... base`. So a
/// caller never retries sooner than half the base, never later than the cap, and many workers (or a fleet) that
/// failed together come back spread over half a base instead of at once. The random source is a parameter, so
/// tests are exact. It lives in UVLoop because every caller is a loop timer's schedule and every caller's module
/// already depends on UVLoop.
public struct Backoff: Sendable, Equatable {
    public let initialMillis: UInt64
    public let capMillis: UInt64

    public init(initialMillis: UInt64, capMillis: UInt64) {
        precondition(initialMillis > 0 && capMillis >= initialMillis, "backoff needs 0 < initial <= cap")
        self.initialMillis = initialMillis
        self.capMillis = capMillis
    }

    /// The base for failed attempt `attempt`: `initial · 2^attempt`, at most `cap`.
    public func base(attempt: Int) -> UInt64 {
        let shift = UInt64(min(max(attempt, 0), 63))
        // initial << shift overflows long before 63 doublings: compare before shifting.
        guard shift < 64, initialMillis <= capMillis >> shift else { return capMillis }
        return min(capMillis, initialMillis << shift)
    }

    /// Every delay the attempt may wait.
    public func range(attempt: Int) -> ClosedRange<UInt64> {
        let base = base(attempt: attempt)
        return (base - base / 2)...base
    }

    /// A delay for the attempt, drawn from `range(attempt:)` with one value of `random`: the high half of
    /// `next() × (span + 1)`, uniform to within (span + 1) / 2^64 and with no rejection loop, so any generator gives
    /// an answer (`UInt64.random(in:using:)` loops forever on a constant one): 0 gives the lowest delay,
    /// `UInt64.max` the highest.
    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> UInt64 {
        let range = range(attempt: attempt)
        let span = range.upperBound - range.lowerBound
        guard span < .max else { return random.next() }
        return range.lowerBound + random.next().multipliedFullWidth(by: span + 1).high
    }

    /// A delay from the system generator.
    public func delay(attempt: Int) -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
