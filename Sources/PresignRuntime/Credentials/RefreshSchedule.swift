import PresignCore
import UVLoop

/// When the refresher fetches a backend's credentials next: a state machine over an injected clock (seconds),
/// driven by the refresher on its loop and by tests. Pure: the jitter's randomness is a parameter.
///
/// - A set serves until its `CredentialWindow` ends (`expiration − margin`, written there only). Its refresh starts
///   one margin earlier, at the window's `refreshFrom` less a jitter (up to `maxJitter`, and at most a quarter of the
///   time left), so a failing source has a whole margin of retries before requests see 503, and a fleet does not
///   refresh at once. Expiries are integer seconds (the type has no NaN or infinity); one past `horizon` is
///   refreshed at the horizon, so every time handed out converts to `Int64`.
/// - A set handed out already inside that window (a source that rotates late) is fetched again after a quarter of
///   the time it still serves, between `minInterval` and `maxBackoff`: never a tight loop.
/// - A failed fetch is retried after the shared `Backoff` from `minBackoff` doubling up to `maxBackoff`, drawn from the
///   upper half of each step (so a fleet's failed refreshes spread out); the set in use stays.
/// - A set that does not expire (a file without an expiry) is fetched again only when told (`changed`).
public struct RefreshSchedule: Sendable, Equatable {
    public struct Settings: Sendable, Equatable {
        public var margin: Int64
        public var maxJitter: Double
        public var minBackoff: Double
        public var maxBackoff: Double
        /// The shortest wait between two successful fetches, whatever the expiry says.
        public var minInterval: Double

        public init(margin: Int64 = 300, maxJitter: Double = 60, minBackoff: Double = 1, maxBackoff: Double = 60, minInterval: Double = 1) {
            self.margin = margin
            self.maxJitter = maxJitter
            self.minBackoff = minBackoff
            self.maxBackoff = maxBackoff
            self.minInterval = minInterval
        }
    }

    public let settings: Settings
    /// The latest time a fetch is scheduled for (2^62 s, some 146 billion years): nothing later is representable
    /// in every form the time takes (`Int64`, a log line's `SigningTime`).
    public static let horizon: Double = 0x1p62
    /// When the next fetch is due; nil: only when told.
    public private(set) var nextAttempt: Double?
    public private(set) var fetching = false
    /// Failed fetches in a row.
    public private(set) var failures = 0
    /// The set in use: whether there is one, and when it signs (its expiry and the margin).
    public private(set) var hasSet = false
    public private(set) var window: CredentialWindow?
    /// A change seen while a fetch was running: fetch again when it ends.
    private var changedWhileFetching = false

    /// Starts with a fetch due now (or a set already in hand, e.g. read when the config loaded).
    public init(settings: Settings, now: Double, current: (expiration: Int64?, random: Double)? = nil) {
        self.settings = settings
        nextAttempt = now
        if let current { succeeded(expiration: current.expiration, now: now, random: current.random) }
    }

    /// The set in use's expiry (nil: none, or one that never expires).
    public var expiration: Int64? { window?.expiration }

    /// Whether the set in use signs at `now`: its window's answer, the one the signers give.
    public func isServing(now: Double) -> Bool { window?.isServing(at: now) ?? false }

    public func isDue(now: Double) -> Bool {
        guard !fetching, let next = nextAttempt else { return false }
        return now >= next
    }

    public mutating func began() {
        fetching = true
        changedWhileFetching = false
    }

    /// A fetch returned a usable set: schedule its refresh.
    public mutating func succeeded(expiration: Int64?, now: Double, random: Double) {
        fetching = false
        failures = 0
        hasSet = true
        let window = CredentialWindow(expiration: expiration, margin: settings.margin)
        self.window = window
        if changedWhileFetching {
            changedWhileFetching = false
            nextAttempt = now
            return
        }
        guard let end = window.end, let refreshFrom = window.refreshFrom else {
            nextAttempt = nil
            return
        }
        let stop = min(Double(end), Self.horizon)
        let start = min(Double(refreshFrom), Self.horizon)
        let jitter = min(settings.random(random) * settings.maxJitter, max(0, (start - now) / 4))
        if start - jitter > now + settings.minInterval {
            nextAttempt = start - jitter
        } else {
            nextAttempt = now + min(max((stop - now) / 4, settings.minInterval), settings.maxBackoff)
        }
    }

    /// A fetch failed: the set in use (if any) stays; retry with backoff, its jitter drawn from `random`.
    public mutating func failed(now: Double, using random: inout some RandomNumberGenerator) {
        fetching = false
        failures += 1
        if changedWhileFetching {
            changedWhileFetching = false
            nextAttempt = now
            return
        }
        nextAttempt = now + Double(settings.backoff.delay(attempt: failures - 1, using: &random)) / 1000
    }

    /// The source changed (a file event, SIGHUP): fetch now, or right after the fetch running.
    public mutating func changed(now: Double) {
        if fetching { changedWhileFetching = true } else { nextAttempt = now }
    }
}

extension RefreshSchedule.Settings {
    /// `minBackoff`...`maxBackoff` (seconds) as the shared schedule (milliseconds, at least 1).
    var backoff: Backoff {
        let initial = UInt64(max(1, (minBackoff * 1000).rounded()))
        return Backoff(initialMillis: initial, capMillis: max(initial, UInt64(max(0, (maxBackoff * 1000).rounded()))))
    }

    /// `random` clamped to 0...1 (a caller's generator is trusted, not assumed).
    func random(_ value: Double) -> Double { value.isFinite ? min(max(value, 0), 1) : 0 }
}
