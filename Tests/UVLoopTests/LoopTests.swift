import CUV
import Foundation
import Testing
import UVLoop

/// A private libuv loop driven by the test's thread, with a watchdog timer so a wait that never ends fails instead
/// of hanging (the watchdog's expiry is a failure, not a measured time).
final class LoopHarness {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    let context: LoopContext
    private let watchdog = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)

    init() {
        uv_loop_init(loop)
        context = LoopContext(index: 253, rawLoop: UnsafeMutableRawPointer(loop))
        uv_timer_init(loop, watchdog)
        uv_timer_start(watchdog, { _ in }, 10_000, 10)
    }

    var eventLoop: EventLoop { EventLoop(context) }

    /// Runs the loop until `condition` holds; false if the watchdog went off first.
    func run(until condition: () -> Bool) -> Bool {
        uv_update_time(loop)
        let end = uv_now(loop) + 10_000
        while !condition() {
            uv_update_time(loop)
            if uv_now(loop) >= end { return false }
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    /// Lets every handle close and frees the loop; whether none was left open.
    func close() -> Bool {
        uv_timer_stop(watchdog)
        watchdog.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        uv_run(loop, UV_RUN_DEFAULT)
        let closed = uv_loop_close(loop) == 0
        watchdog.deallocate()
        loop.deallocate()
        return closed
    }
}

/// Closures posted from other threads, and timers: on a real loop.
struct LoopTests {
    /// Four threads post 2,000 closures each: every one runs, once, on the loop's thread, in each poster's order.
    @Test func postsFromManyThreadsAllRunOnTheLoopInOrder() {
        let harness = LoopHarness()
        let inbox = LoopInbox()
        inbox.open(rawLoop: harness.context.rawLoop)
        let loopThread = pthread_self()
        let seen = Locked([[Int]](repeating: [], count: 4))
        let offLoop = Locked(0)
        let posters = Thread.detachNewThreadAndWait(count: 4) { poster in
            for step in 0..<2_000 {
                let posted = inbox.post {
                    if pthread_equal(pthread_self(), loopThread) == 0 { offLoop.withLock { $0 += 1 } }
                    seen.withLock { $0[poster].append(step) }
                }
                precondition(posted)
            }
        }
        #expect(harness.run { seen.withLock { $0.map(\.count).reduce(0, +) } == 8_000 })
        posters.wait()
        #expect(seen.withLock { $0 } == Array(repeating: Array(0..<2_000), count: 4))
        #expect(offLoop.withLock { $0 } == 0)
        inbox.close()
        #expect(harness.close())
    }

    /// A post after `close` is refused and dropped; one queued before it runs during the close.
    @Test func closeRunsWhatIsQueuedAndRefusesLaterPosts() {
        let harness = LoopHarness()
        let inbox = LoopInbox()
        #expect(!inbox.post {})  // not open yet
        inbox.open(rawLoop: harness.context.rawLoop)
        let ran = Locked(0)
        #expect(inbox.post { ran.withLock { $0 += 1 } })
        inbox.close()
        #expect(ran.withLock { $0 } == 1)
        #expect(!inbox.post { ran.withLock { $0 += 100 } })
        #expect(harness.close())
        #expect(ran.withLock { $0 } == 1)
    }

    @Test func aTimerRepeatsUntilStoppedAndRestartingReplacesItsSchedule() {
        let harness = LoopHarness()
        var fired = 0
        let timer = LoopTimer(on: harness.eventLoop) { fired += 1 }
        timer.start(afterMillis: 1, repeatMillis: 1)
        #expect(harness.run { fired >= 3 })
        timer.stop()
        let stoppedAt = fired
        uv_run(harness.loop, UV_RUN_NOWAIT)
        #expect(fired == stoppedAt)
        timer.start(afterMillis: 3_600_000)
        timer.start(afterMillis: 0)  // replaces the hour-long wait
        #expect(harness.run { fired == stoppedAt + 1 })
        timer.close()
        #expect(timer.isClosed)
        timer.start(afterMillis: 0)  // ignored once closed
        #expect(harness.close())
        #expect(fired == stoppedAt + 1)
    }
}

extension Thread {
    /// Starts `count` threads running `body(index)`; `wait()` on the answer joins them.
    static func detachNewThreadAndWait(count: Int, _ body: @escaping @Sendable (Int) -> Void) -> DispatchGroup {
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread {
                body(index)
                group.leave()
            }
        }
        return group
    }
}
