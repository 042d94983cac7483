import HTTPServer
import Crypto
import JSONKit
import PresignConfig
import RedisClient
import PresignCore

/// Credentials, then the caller's rate limit, before any handler of an authenticated route runs.
extension PresignService {
    /// How much of a request's cost its caller's rate limit let through.
    struct Admission {
        /// Units admitted, from 0 to the cost asked (a batch may get part of what it asked for).
        var admitted: Int
        /// Seconds until the next unit is back, when fewer than asked were admitted.
        var retryAfter: Int
    }

    static func rateLimitedError(_ caller: Authenticated, retryAfter: Int) -> APIError {
        APIError(.rateLimited, "caller '\(caller.caller.name)' is over its rate limit",
                 headers: ["Retry-After": String(retryAfter)])
    }

    /// Takes `cost` units of the caller's rate limit, as many as are there, and answers how many it got. The
    /// answer may come at once or later; a failure is the limiter's own trouble (503), never the caller's.
    func limit(
        _ caller: Authenticated, cost: Int, _ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot,
        _ done: @escaping (Result<Admission, APIError>) -> Void
    ) {
        if let redis = snapshot.config.state?.redis, let rate = caller.caller.rateLimit {
            return limitInRedis(caller, rate: rate, redis: redis, failOpen: snapshot.config.state?.failOpen ?? false,
                                cost: cost, request, context, done)
        }
        let limiter = snapshot.derived.rateLimiter
        var admission = Admission(admitted: 0, retryAfter: 0)
        let now = clock.monotonicNanos()
        while admission.admitted < cost {
            switch limiter.take(caller: caller.caller.index, worker: request.worker, nowNanos: now) {
            case .allowed: admission.admitted += 1
            case .limited(let retry):
                admission.retryAfter = retry
                for _ in admission.admitted..<cost { metrics.rateLimited(worker: request.worker) }
                return done(.success(admission))
            }
        }
        done(.success(admission))
    }

    /// The fleet-wide limit: one GCRA script call on this worker's Redis connection, whatever the cost.
    func limitInRedis(
        _ caller: Authenticated, rate: Caller.RateLimit, redis: RedisSettings, failOpen: Bool, cost: Int, _ request: HTTPRequest,
        _ context: ResponseContext, _ done: @escaping (Result<Admission, APIError>) -> Void
    ) {
        let worker = request.worker
        // The client hears the kind of trouble; the log says what it was.
        let unavailable = { [self] (why: String, detail: String) in
            logThrottled(.rateLimiter, "rate limiter (Redis \(redis.url.host):\(redis.url.port)): \(detail)\(failOpen ? "; serving without the limit (on_error: allow)" : "")", request)
            if failOpen {
                metrics.rateLimitFailOpen(worker: worker)
                return done(.success(Admission(admitted: cost, retryAfter: 0)))
            }
            done(.failure(APIError(.rateLimiterUnavailable, "the rate limiter cannot answer (\(why)); retry",
                                   headers: ["Retry-After": "1"])))
        }
        guard let loop = context.eventLoopIfAttached else { return unavailable("no event loop", "no event loop (an in-process request)") }
        let key = Self.rateKey(caller, perSubject: rate.perSubject)
        sharedRateLimit.take(
            key: key, perSecond: rate.perSecond, burst: max(1, Int(rate.burst)), cost: cost, redis: redis, loop: loop
        ) { [self] result in
            switch result {
            case .failure(let error): unavailable("redis: \(error.kind)", error.description)
            case .success(let decision) where !(0...Int64(cost)).contains(decision.admitted) || decision.retryAfterMillis < 0:
                // The limiter's trouble: never a pass, and never a count that traps below.
                let error = RedisError.protocolError("the limiter answered \(decision.admitted) of \(cost), retry in \(decision.retryAfterMillis) ms")
                unavailable("redis: \(error.kind)", error.description)
            case .success(let decision):
                let admitted = Int(clamping: decision.admitted)
                for _ in admitted..<cost { metrics.rateLimited(worker: worker) }
                let seconds = (Double(decision.retryAfterMillis) / 1000).rounded(.up)
                done(.success(Admission(admitted: admitted, retryAfter: Int(min(max(seconds, 1), Double(RateLimiter.maxRetryAfter))))))
            }
        }
    }

    /// `presignd:rl:` and a digest of the caller's name (and of the JWT subject for `per: subject`), so any name
    /// or subject makes a short key of fixed shape. One key per call: Redis Cluster safe.
    static func rateKey(_ caller: Authenticated, perSubject: Bool) -> [UInt8] {
        var key = Array("presignd:rl:".utf8)
        func digest(_ text: String) {
            for byte in SHA256.hash(data: Array(text.utf8)).prefix(16) { ASCII.appendHex(byte, to: &key) }
        }
        digest(caller.caller.name)
        if perSubject, let subject = caller.claims["sub"] {
            key.append(UInt8(ascii: ":"))
            digest(subject)
        }
        return key
    }

    /// Authenticates the request (which may wait for a JWKS fetch) and admits it (`cost` units; none for a row that
    /// takes its own), then runs `next` with the caller; otherwise answers 401, 429 or 503 through the context.
    func admit(
        _ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot, cost: Int,
        _ next: @escaping (Authenticated) -> Void
    ) {
        authenticate(request, context, snapshot) { [self] found in
            let caller: Authenticated
            switch found {
            case .failure(let error): return context.respond(Self.response(error))
            case .success(let found): caller = found
            }
            guard cost > 0 else { return next(caller) }
            limit(caller, cost: cost, request, context, snapshot) { result in
                switch result {
                case .failure(let error): context.respond(Self.response(error))
                case .success(let admission) where admission.admitted == 0:
                    context.respond(Self.response(Self.rateLimitedError(caller, retryAfter: admission.retryAfter)))
                case .success: next(caller)
                }
            }
        }
    }
}
