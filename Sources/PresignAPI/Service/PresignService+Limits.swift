import HTTPServer
import PresignConfig

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
        APIError(status: 429, code: "RateLimited", message: "caller '\(caller.caller.name)' is over its rate limit",
                 headers: ["Retry-After": String(retryAfter)])
    }

    /// Takes `cost` units of the caller's rate limit, as many as are there, and answers how many it got. The
    /// answer may come at once or later; a failure is the limiter's own trouble (503), never the caller's.
    func limit(
        _ caller: Authenticated, cost: Int, _ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot,
        _ done: @escaping (Result<Admission, APIError>) -> Void
    ) {
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

    /// Authenticates the request and admits it (one unit), then runs `next` with the caller; otherwise answers
    /// 401, 429 or 503 through `reply`.
    func admit(
        _ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot, reply: LaterReply,
        _ next: @escaping (Authenticated) -> Void
    ) {
        let caller: Authenticated
        switch authenticate(request, snapshot.config, now: clock.wallSeconds()) {
        case .failure(let error): return reply.send(Self.response(error))
        case .success(let found): caller = found
        }
        limit(caller, cost: 1, request, context, snapshot) { result in
            switch result {
            case .failure(let error): reply.send(Self.response(error))
            case .success(let admission) where admission.admitted == 0:
                reply.send(Self.response(Self.rateLimitedError(caller, retryAfter: admission.retryAfter)))
            case .success: next(caller)
            }
        }
    }
}
