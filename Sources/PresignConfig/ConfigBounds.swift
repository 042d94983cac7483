import Crypto
import Foundation
import S3Signing
import Yams

/// The range every number in the config file (and every matching `serve` flag) must fall in. A value outside is
/// refused by path, never clamped: NaN, infinities and absurd sizes have crashed conversions to `Int` and timer
/// arithmetic before, and a typo should be an error, not a surprise.
public enum ConfigBounds {
    public static let workers: ClosedRange<Int> = 1...256
    public static let maxHeaderBytes: ClosedRange<Int> = 256...(1 << 20)
    public static let maxBodyBytes: ClosedRange<Int64> = 1024...(64 << 20)
    /// header, idle and body timeouts, in seconds.
    public static let serverTimeout: ClosedRange<Double> = 0.001...3600
    public static let maxConnections: ClosedRange<Int> = 1...1_000_000
    public static let drainSeconds: ClosedRange<Double> = 0...3600
    /// `server.log_buffer_bytes` and `server.audit_buffer_bytes`: what a worker holds of each stream while stdout
    /// is not read. At least 64 KiB, so the longest audit line (a 1,024-byte key, escaped) always fits.
    public static let logBufferBytes: ClosedRange<Int> = (64 << 10)...(256 << 20)
    /// connect, request and low-speed timeouts of a backend, in seconds.
    public static let backendTimeout: ClosedRange<Double> = 0.001...86_400
    public static let ratePerSecond: ClosedRange<Double> = 0.001...1_000_000
    public static let burst: ClosedRange<Double> = 1...1_000_000
    /// A year; SigV4 backends stop at 604800 s on top of this.
    public static let maxExpiresIn: ClosedRange<Int64> = 1...31_536_000
    /// S3's largest object, 5 TiB.
    public static let maxContentLength: ClosedRange<Int64> = 0...(5 << 40)
    public static let corsMaxAge: ClosedRange<Int> = 0...86_400
    /// The lifetime of the URL a share link redirects to, in seconds.
    public static let linkURLTTL: ClosedRange<Int64> = 1...3600
    /// How long a link write waits for SQLite's lock, in milliseconds (the loop waits with it).
    public static let linkBusyTimeoutMs: ClosedRange<Int> = 1...1000
    /// `links.max_live_per_caller`: live links one caller may hold. SQLite counts them (up to the cap) on every
    /// create, so the cap is also the most index entries one create reads.
    public static let maxLiveLinks: ClosedRange<Int> = 1...100_000
    /// `links.rate_limit.trusted_proxies`: how many networks the list may name.
    public static let maxTrustedProxies = 256
    /// Redis connect and command timeouts, in milliseconds.
    public static let redisConnectTimeoutMs: ClosedRange<Int> = 10...60_000
    public static let redisCommandTimeoutMs: ClosedRange<Int> = 1...10_000
    public static let jwtLeeway: ClosedRange<Int> = 0...300
    /// `credentials.refresh_margin_seconds`: how long before their expiry rotating credentials stop signing.
    public static let credentialMargin: ClosedRange<Int64> = 1...3600
    /// `credentials.web_identity.duration_seconds`: what STS allows.
    public static let webIdentityDuration: ClosedRange<Int> = 900...43_200

    /// `value` when it is within `range`; otherwise a `ConfigError` at `path` that names the range and the value.
    public static func check<T: BinaryInteger>(_ value: T, _ range: ClosedRange<T>, path: String) throws(ConfigError) -> T {
        guard range.contains(value) else {
            throw ConfigError(path, "must be between \(range.lowerBound) and \(range.upperBound); got \(value)")
        }
        return value
    }

    /// As above for a real number; NaN and infinities are never within a range.
    public static func check(_ value: Double, _ range: ClosedRange<Double>, path: String) throws(ConfigError) -> Double {
        guard value.isFinite, range.contains(value) else {
            throw ConfigError(path, "must be between \(render(range.lowerBound)) and \(render(range.upperBound)); got \(render(value))")
        }
        return value
    }

    /// Whole numbers without a fraction (`3600`, not `3600.0`); others as Swift prints them (`0.001`, `1e-19`, `nan`).
    static func render(_ value: Double) -> String {
        value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
