internal import CUV
import UVLoop

/// A private libuv loop driven by the test's thread, with its inbox open (so `EventLoop.post` reaches it): posted
/// answers and callbacks run only inside `run`, never while the test's own code runs. A ticker wakes `uv_run` every
/// 5 ms, so a wait whose answer never comes ends at its bound (a guard against a hang, never a measured time).
/// `index` is the worker index the loop claims: one no test server uses (253, 254, 255).
public final class TestLoop {
    private let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    private let ticker = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    public let context: LoopContext

    public init(index: Int = 253) {
        uv_loop_init(loop)
        context = LoopContext(index: index, rawLoop: UnsafeMutableRawPointer(loop))
        context.inbox.open(rawLoop: UnsafeMutableRawPointer(loop))
        uv_timer_init(loop, ticker)
        uv_timer_start(ticker, { _ in }, 5, 5)
    }

    public var eventLoop: EventLoop { EventLoop(context) }

    /// The loop's clock in milliseconds, updated now.
    public var now: UInt64 {
        uv_update_time(loop)
        return uv_now(loop)
    }

    /// Runs the loop until `condition` holds or `millis` pass on its clock; whether it held.
    @discardableResult
    public func run(until condition: () -> Bool, millis: UInt64 = 10_000) -> Bool {
        let end = now + millis
        while !condition() {
            if now >= end { return false }
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    /// Runs what is due now, without waiting.
    public func runDue() { uv_run(loop, UV_RUN_NOWAIT) }

    /// Runs the loop for `millis` on its clock.
    public func sleep(millis: UInt64) {
        let end = now + millis
        run(until: { now >= end }, millis: millis + 1_000)
    }

    /// Runs the shutdown hooks (closing connections), closes the inbox, lets the loop finish and frees it; whether
    /// every handle was closed.
    public func close() -> Bool {
        context.runShutdownHooks()
        context.inbox.close()
        uv_timer_stop(ticker)
        ticker.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        uv_run(loop, UV_RUN_DEFAULT)
        let closed = uv_loop_close(loop) == 0
        ticker.deallocate()
        loop.deallocate()
        return closed
    }
}
