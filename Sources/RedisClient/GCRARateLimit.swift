/// A token bucket of `burst` tokens refilled at `perSecond`, kept in Redis as GCRA: one key holds the theoretical
/// arrival time (TAT) in microseconds of the server's clock (`TIME`, so the clients' and replicas' clocks do not
/// matter). One key per call, so it is Redis Cluster safe.
public enum GCRARateLimit {
    /// KEYS[1]: the bucket. ARGV[1]: the emission interval (µs per token). ARGV[2]: the burst (tokens).
    /// Answers {1, 0} when allowed, {0, retry_after_ms} when not. The key expires when the bucket would be full.
    /// `redis.replicate_commands()` lets Redis < 5 write after TIME; Redis 7 ignores it.
    public static let script = RedisScript("""
        redis.replicate_commands()
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        local allow_at = tat + interval - burst * interval
        if allow_at > now then
          return {0, math.ceil((allow_at - now) / 1000)}
        end
        local new_tat = tat + interval
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
        return {1, 0}
        """)

    /// The answer for one call.
    public struct Decision: Equatable, Sendable {
        public let allowed: Bool
        /// When the next call can pass; 0 when allowed.
        public let retryAfterMillis: Int64
    }

    /// KEYS and ARGV for a bucket of `burst` tokens refilled at `perSecond` (> 0) per second.
    public static func arguments(key: [UInt8], perSecond: Double, burst: Int) -> (keys: [[UInt8]], args: [[UInt8]]) {
        precondition(perSecond > 0 && perSecond.isFinite && burst >= 1)
        let interval = max(1, (1_000_000 / perSecond).rounded())
        return ([key], [Array(String(Int64(interval)).utf8), Array(String(burst).utf8)])
    }

    /// Reads the script's reply.
    public static func decision(from reply: RedisReply) -> Result<Decision, RedisError> {
        if case .array(let items) = reply, items.count == 2, case .integer(let allowed) = items[0],
           case .integer(let retry) = items[1], (0...1).contains(allowed), retry >= 0 {
            return .success(Decision(allowed: allowed == 1, retryAfterMillis: retry))
        }
        switch reply {
        case .error(let message):
            return .failure(.protocolError("rate limit script failed: \(message)"))
        default:
            return .failure(.protocolError("rate limit script answered \(reply)"))
        }
    }
}

extension RedisConnection {
    /// Takes one token from the bucket `key`; see `GCRARateLimit`.
    public func rateLimit(key: [UInt8], perSecond: Double, burst: Int,
                          _ done: @escaping (Result<GCRARateLimit.Decision, RedisError>) -> Void) {
        let (keys, args) = GCRARateLimit.arguments(key: key, perSecond: perSecond, burst: burst)
        evalScript(GCRARateLimit.script, keys: keys, args: args) { result in
            done(result.flatMap(GCRARateLimit.decision(from:)))
        }
    }
}
