import PresignAPI
import RedisClient
import UVLoop

/// An in-memory `SharedRateLimit`: one bucket of `burst` tokens per key, never refilled (the tests' clock does not
/// move), answered on a later turn of the asking loop as Redis's reply is. It can fail every call (`failure`: Redis
/// down) or lie (`lie`: the decision answered instead of the bucket's). It keeps the keys and costs it was asked.
/// `@unchecked Sendable`: touched only on the thread that drives the test's `DrivenLoop`.
final class FakeRateLimit: SharedRateLimit, @unchecked Sendable {
    var taken: [[UInt8]: Int] = [:]
    var failure: RedisError?
    var lie: GCRARateLimit.Decision?
    var calls: [(key: [UInt8], cost: Int)] = []

    func take(
        key: [UInt8], perSecond: Double, burst: Int, cost: Int, redis: RedisSettings, loop: EventLoop,
        _ done: @escaping (Result<GCRARateLimit.Decision, RedisError>) -> Void
    ) {
        calls.append((key, cost))
        let outcome: Result<GCRARateLimit.Decision, RedisError>
        if let failure {
            outcome = .failure(failure)
        } else if let lie {
            outcome = .success(lie)
        } else {
            let admitted = min(cost, burst - taken[key, default: 0])
            taken[key, default: 0] += admitted
            let retry = admitted < cost ? Int64((1000 / perSecond).rounded(.up)) : 0
            outcome = .success(GCRARateLimit.Decision(admitted: Int64(admitted), retryAfterMillis: retry))
        }
        Driven.later(on: loop) { done(outcome) }
    }
}
