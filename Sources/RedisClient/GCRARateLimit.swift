/// A token bucket of `burst` tokens refilled at `perSecond`, kept in Redis as GCRA: one key holds the theoretical
/// arrival time (TAT) in microseconds of the server's clock (`TIME`, so the clients' and replicas' clocks do not
/// matter). One key per call, so it is Redis Cluster safe.
public enum GCRARateLimit {
    /// KEYS[1]: the bucket. ARGV[1]: the emission interval (µs per token). ARGV[2]: the burst (tokens). ARGV[3]: the
    /// tokens wanted (a batch wants one per item). Takes as many as are there, up to that, and answers
    /// {taken, retry_after_ms}: retry_after_ms is 0 when all were taken, else the wait for the next token. The key
    /// expires when the bucket would be full. `redis.replicate_commands()` lets Redis < 5 write after TIME.
    public static let script = RedisScript("""
        redis.replicate_commands()
        local interval = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local cost = tonumber(ARGV[3])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        local tat = tonumber(redis.call('GET', KEYS[1]) or now)
        if tat < now then tat = now end
        local fit = math.floor((now - tat + burst * interval) / interval)
        if fit > cost then fit = cost end
        if fit <= 0 then
          return {0, math.ceil((tat + interval - burst * interval - now) / 1000)}
        end
        local new_tat = tat + fit * interval
        redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.max(1, math.ceil((new_tat - now) / 1000)))
        if fit < cost then
          return {fit, math.ceil((new_tat + interval - burst * interval - now) / 1000)}
        end
        return {fit, 0}
        """)

    /// The answer for one call.
    public struct Decision: Equatable, Sendable {
        /// Tokens taken, 0 up to the cost asked.
        public let admitted: Int64
        /// When the next token is there; 0 when all that was asked was taken.
        public let retryAfterMillis: Int64

        public init(admitted: Int64, retryAfterMillis: Int64) {
            self.admitted = admitted
            self.retryAfterMillis = retryAfterMillis
        }

        public var allowed: Bool { admitted > 0 }
    }

    /// KEYS and ARGV for `cost` tokens of a bucket of `burst` tokens refilled at `perSecond` (> 0) per second.
    public static func arguments(key: [UInt8], perSecond: Double, burst: Int, cost: Int = 1) -> (keys: [[UInt8]], args: [[UInt8]]) {
        precondition(perSecond > 0 && perSecond.isFinite && burst >= 1 && cost >= 1)
        let interval = max(1, (1_000_000 / perSecond).rounded())
        return ([key], [Array(String(Int64(interval)).utf8), Array(String(burst).utf8), Array(String(cost).utf8)])
    }

    /// Reads the script's reply for a call that asked for `cost` tokens.
    public static func decision(from reply: RedisReply, cost: Int = 1) -> Result<Decision, RedisError> {
        if case .array(let items) = reply, items.count == 2, case .integer(let taken) = items[0],
           case .integer(let retry) = items[1], (0...Int64(cost)).contains(taken), retry >= 0
        {
            return .success(Decision(admitted: taken, retryAfterMillis: retry))
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
    /// Takes up to `cost` tokens from the bucket `key`; see `GCRARateLimit`.
    public func rateLimit(key: [UInt8], perSecond: Double, burst: Int, cost: Int = 1,
                          _ done: @escaping (Result<GCRARateLimit.Decision, RedisError>) -> Void) {
        let (keys, args) = GCRARateLimit.arguments(key: key, perSecond: perSecond, burst: burst, cost: cost)
        evalScript(GCRARateLimit.script, keys: keys, args: args) { result in
            done(result.flatMap { GCRARateLimit.decision(from: $0, cost: cost) })
        }
    }
}
