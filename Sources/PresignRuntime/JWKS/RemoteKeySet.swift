import Foundation
import JWTKit
import Logging
import PresignConfig
import S3Client
import Synchronization
import UVLoop

/// One `jwt.jwks_url` key set, shared by every worker and kept across config reloads (`RemoteKeySets`). Its state
/// (the `JWKSSchedule`, the keys, the requests waiting for a fetch) lives under one lock; what verifies a token is a
/// published `View` that each worker caches and re-reads only when the generation number moves, so the hot path
/// reads one atomic and takes no lock. One fetch is in flight at a time, on the loop of whoever started it; its
/// keys are parsed by jwt-kit off the loop (a Task) and the result comes back to that loop through its inbox.
/// Everything about a remote key set is in this folder (the schedule, the document's checks, `JWTAuth.keySet`);
/// the configuration holds only the `jwt.jwks_url` settings.
public final class RemoteKeySet: Sendable {
    public final class View: Sendable {
        let number: Int
        /// Nil until the first good fetch.
        public let keys: JWTAuth.KeySet?
        /// Monotonic ns at which a background fetch is due (0: now; `.max`: one is in flight).
        let refreshAt: UInt64

        init(number: Int, keys: JWTAuth.KeySet?, refreshAt: UInt64) {
            self.number = number
            self.keys = keys
            self.refreshAt = refreshAt
        }
    }

    /// A request waiting for fetch number `fetch` (or an earlier one) to answer. Kept on its own worker's row and
    /// run on that worker's loop: the closure (which holds the request) never crosses to another thread; only the
    /// news that a fetch answered does (`wake(worker:upTo:)`, posted to each waiting loop).
    struct Waiter {
        let fetch: Int
        let wake: () -> Void
    }

    struct State {
        var schedule = JWKSSchedule()
        var view: View
        /// The loops with requests waiting for the fetch in flight, and how many fetches have started.
        var waitingLoops: [EventLoop] = []
        var fetches = 0
        var lastFailureLog: UInt64?
        var quietFailures = 0
    }

    public let issuer: String
    public let url: String
    private let hooks: RemoteKeySets.Hooks
    private let state: Locked<State>
    private let published = Atomic<Int>(0)
    private let views: PerWorker<View>
    /// Each worker's waiting requests, touched only on that worker's loop.
    private let waiting: PerWorker<[Waiter]>

    init(issuer: String, url: String, workers: Int, hooks: RemoteKeySets.Hooks) {
        self.issuer = issuer
        self.url = url
        self.hooks = hooks
        let first = View(number: 0, keys: nil, refreshAt: 0)
        state = Locked(State(view: first))
        views = PerWorker(count: workers) { _ in first }
        waiting = PerWorker(count: workers) { _ in [] }
    }

    /// Worker `worker`'s view of the keys: call it on that worker's loop thread.
    public func view(worker: Int) -> View {
        let mine = views[worker]
        if mine.number == published.load(ordering: .acquiring) { return mine }
        let fresh = state.withLock { $0.view }
        views[worker] = fresh
        return fresh
    }

    /// On `loop`'s thread: starts a background fetch when `view` says one is due (the first, stale keys, or a retry
    /// after a failure). Takes the lock only then.
    public func refreshIfDue(_ view: View, loop: EventLoop?) {
        guard let loop, !loop.isDraining else { return }
        let now = hooks.monotonicNanos()
        guard now >= view.refreshAt else { return }
        let start = state.withLock { state in
            guard state.schedule.refreshIfDue(now: now) else { return false }
            state.fetches += 1
            publish(&state)
            return true
        }
        if start { fetch(on: loop) }
    }

    /// On `loop`'s thread, for a token whose kid is not in the set (or any token before the first good fetch): nil
    /// when `then` will run on this loop once a fetch has answered (one started now, or the one in flight); else
    /// the seconds until a fetch may start (the refetch window), and `then` never runs.
    public func keyMissing(loop: EventLoop?, _ then: @escaping () -> Void) -> Int? {
        guard let loop, !loop.isDraining else { return 1 }
        let now = hooks.monotonicNanos()
        let (decision, number) = state.withLock { state in
            let decision = state.schedule.unknownKey(now: now)
            switch decision {
            case .fetch:
                state.fetches += 1
                publish(&state)
                if !state.waitingLoops.contains(loop) { state.waitingLoops.append(loop) }
            case .wait:
                if !state.waitingLoops.contains(loop) { state.waitingLoops.append(loop) }
            case .refuse: break
            }
            return (decision, state.fetches)
        }
        // On this loop's thread, before it returns to its loop: a wake posted by the fetch runs after this.
        if case .refuse = decision {} else { waiting.withValue(loop.index) { $0.append(Waiter(fetch: number, wake: then)) } }
        switch decision {
        case .fetch:
            fetch(on: loop)
            return nil
        case .wait: return nil
        case .refuse(let seconds): return seconds
        }
    }

    /// Seconds before a fetch may start, for `Retry-After`.
    public func retryAfter() -> Int {
        let now = hooks.monotonicNanos()
        return state.withLock { $0.schedule.retryAfter(now: now) }
    }

    /// A new view from the state (under its lock).
    private func publish(_ state: inout State, keys: JWTAuth.KeySet? = nil) {
        let refreshAt = state.schedule.inFlight ? UInt64.max : (state.schedule.refreshAt ?? 0)
        let number = state.view.number + 1
        state.view = View(number: number, keys: keys ?? state.view.keys, refreshAt: refreshAt)
        published.store(number, ordering: .releasing)
    }

    private func fetch(on loop: EventLoop) {
        let request = HTTPFetch.Request(
            url: url, headers: [("Accept", "application/json")], maxBodyBytes: JWKSSchedule.maxDocumentBytes,
            connectTimeoutMillis: JWKSSchedule.connectTimeoutMillis, totalTimeoutMillis: JWKSSchedule.totalTimeoutMillis)
        hooks.fetcher.fetch(request, on: loop) { [self] result in
            let response: HTTPFetch.Response
            switch result {
            case .failure(let failure):
                let outcome: JWKSSchedule.Failure.Outcome = if case .tooLarge = failure { .tooLarge } else { .network }
                return finish(.failure(JWKSSchedule.Failure(outcome, failure.message)), maxAge: 0, skipped: [], loop: loop)
            case .success(let got): response = got
            }
            let jwks: [JWK]
            switch JWKSSchedule.document(status: response.status, body: response.body) {
            case .failure(let failure): return finish(.failure(failure), maxAge: 0, skipped: [], loop: loop)
            case .success(let keys): jwks = keys
            }
            let maxAge = JWKSSchedule.lifetime(cacheControl: response.header("Cache-Control"))
            Task { [self] in
                let (keys, skipped) = await JWTAuth.keySet(from: jwks)
                let result: Result<JWTAuth.KeySet, JWKSSchedule.Failure> =
                    keys.keys.isEmpty ? .failure(JWKSSchedule.Failure(.noUsableKeys, "no RS256 or ES256 key with a kid")) : .success(keys)
                loop.post { [self] in finish(result, maxAge: maxAge, skipped: skipped, loop: loop) }
            }
        }
    }

    /// On `loop`'s thread: records the answer, publishes the keys (a failure keeps the last good ones), counts
    /// and logs it, and wakes every waiting request on its own loop.
    private func finish(_ result: Result<JWTAuth.KeySet, JWKSSchedule.Failure>, maxAge: Int, skipped: [String], loop: EventLoop) {
        let now = hooks.monotonicNanos()
        var failureLine: String?
        let (loops, number) = state.withLock { state in
            // Declared here, not captured: ThreadSanitizer's build crashed (SEGV in its shadow store) on the inout
            // access to a captured, zero-sized generator.
            var random = SystemRandomNumberGenerator()
            switch result {
            case .success(let keys):
                state.schedule.finished(succeeded: true, maxAgeSeconds: maxAge, now: now, using: &random)
                publish(&state, keys: keys)
            case .failure(let failure):
                state.schedule.finished(succeeded: false, maxAgeSeconds: maxAge, now: now, using: &random)
                publish(&state)
                // One line a minute per key set; the lines held back are counted in the next.
                if let last = state.lastFailureLog, now &- last < 60_000_000_000 {
                    state.quietFailures += 1
                } else {
                    let held = state.quietFailures > 0 ? " (\(state.quietFailures) more failures since the last line)" : ""
                    let kept = state.view.keys == nil ? "no keys yet: its JWT callers get 503 KeysUnavailable" : "keeping the last good key set"
                    failureLine = "jwks fetch failed (\(failure.outcome.rawValue)): \(failure.message); \(kept)\(held)"
                    state.lastFailureLog = now
                    state.quietFailures = 0
                }
            }
            defer { state.waitingLoops.removeAll() }
            return (state.waitingLoops, state.fetches)
        }
        let metadata: Logger.Metadata = ["issuer": "\(issuer)", "jwks_url": "\(url)"]
        switch result {
        case .success(let keys):
            hooks.fetched(loop.index, "ok")
            var fields = metadata
            fields["keys"] = "\(keys.keys.keys.sorted().joined(separator: ","))"
            fields["max_age"] = "\(maxAge)"
            if !skipped.isEmpty { fields["skipped"] = "\(skipped.prefix(5).joined(separator: "; "))" }
            hooks.logger.info("jwks fetched", metadata: fields)
        case .failure(let failure):
            hooks.fetched(loop.index, failure.outcome.rawValue)
            if let failureLine { hooks.logger.error("\(failureLine)", metadata: metadata) }
        }
        // Posted, never run from inside the fetch's own callback.
        for waiting in loops { waiting.post { [self] in wake(worker: waiting.index, upTo: number) } }
    }

    /// On worker `worker`'s loop: runs the requests there that waited for fetch `upTo` or an earlier one.
    private func wake(worker: Int, upTo number: Int) {
        let due = waiting.withValue(worker) { list -> [Waiter] in
            let due = list.filter { $0.fetch <= number }
            list.removeAll { $0.fetch <= number }
            return due
        }
        for waiter in due { waiter.wake() }
    }
}
