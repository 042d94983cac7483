import RedisClient
import UVLoop

/// The fleet-wide rate limit, as the presign routes see it: take up to `cost` tokens of the bucket `key` and hear,
/// on `loop` and usually later, how many were taken and when the next one is back, or why the limiter could not
/// answer. `RedisRateLimit` runs the GCRA script on the worker's Redis connection; a test passes its own
/// (`PresignService(rateLimit:)`) to answer later, fail or lie without a Redis server. The handler checks what it
/// hears (`PresignService.limitInRedis`): an answer outside 0...cost is the limiter's trouble, never a pass.
public protocol SharedRateLimit: AnyObject, Sendable {
    /// Answers through `done` exactly once, on `loop`'s thread. Call on that thread.
    func take(
        key: [UInt8], perSecond: Double, burst: Int, cost: Int, redis: RedisSettings, loop: EventLoop,
        _ done: @escaping (Result<GCRARateLimit.Decision, RedisError>) -> Void)
}

/// The live limiter: one EVALSHA of `GCRARateLimit.script` on this loop's connection of `pool`.
public final class RedisRateLimit: SharedRateLimit {
    let pool: RedisConnectionPool

    public init(pool: RedisConnectionPool) { self.pool = pool }

    public func take(
        key: [UInt8], perSecond: Double, burst: Int, cost: Int, redis: RedisSettings, loop: EventLoop,
        _ done: @escaping (Result<GCRARateLimit.Decision, RedisError>) -> Void
    ) {
        pool.connection(redis, loop: loop).rateLimit(key: key, perSecond: perSecond, burst: burst, cost: cost, done)
    }
}
