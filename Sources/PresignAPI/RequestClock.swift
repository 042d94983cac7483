import Foundation

/// Everything a request needs from outside: the clock (wall time for signing, monotonic for rate limits).
public struct RequestClock: Sendable {
    public var wallSeconds: @Sendable () -> Double
    public var monotonicNanos: @Sendable () -> UInt64

    public init(wallSeconds: @escaping @Sendable () -> Double, monotonicNanos: @escaping @Sendable () -> UInt64) {
        self.wallSeconds = wallSeconds
        self.monotonicNanos = monotonicNanos
    }

    public static let system = RequestClock(
        wallSeconds: { Date().timeIntervalSince1970 },
        monotonicNanos: { DispatchTime.now().uptimeNanoseconds })
}
