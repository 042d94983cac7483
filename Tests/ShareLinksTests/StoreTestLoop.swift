import CUV
import Testing
import UVLoop

/// A private libuv loop with its inbox open (so `EventLoop.post` reaches it), driven by the test's thread: posted
/// answers run only inside `run`, never while the test's own code runs.
final class StoreTestLoop {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    let context: LoopContext
    /// Wakes `uv_run` every 5 ms, so a wait whose answer never comes ends at its bound instead of hanging.
    private let ticker = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)

    init(index: Int = 253) {
        uv_loop_init(loop)
        context = LoopContext(index: index, rawLoop: UnsafeMutableRawPointer(loop))
        context.inbox.open(rawLoop: UnsafeMutableRawPointer(loop))
        uv_timer_init(loop, ticker)
        uv_timer_start(ticker, { _ in }, 5, 5)
    }

    var eventLoop: EventLoop { EventLoop(context) }

    /// Runs the loop until `condition` holds, at most `turns` times (a guard against a hang, not a timing).
    @discardableResult
    func run(turns: Int = 4_000, until condition: () -> Bool) -> Bool {
        var left = turns
        while !condition() {
            guard left > 0 else { return false }
            left -= 1
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    func close() {
        context.inbox.close()
        uv_timer_stop(ticker)
        ticker.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        uv_run(loop, UV_RUN_DEFAULT)
        #expect(uv_loop_close(loop) == 0, "every handle closed")
        ticker.deallocate()
        loop.deallocate()
    }
}
