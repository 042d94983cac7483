import Foundation
import Testing
import UVLoop
import TestSupport

/// Closures posted from other threads, and timers: on a real loop.
struct LoopTests {
    /// Four threads post 2,000 closures each: every one runs, once, on the loop's thread, in each poster's order.
    @Test func postsFromManyThreadsAllRunOnTheLoopInOrder() {
        let harness = TestLoop()
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
        let harness = TestLoop()
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
        let harness = TestLoop()
        var fired = 0
        let timer = LoopTimer(on: harness.eventLoop) { fired += 1 }
        timer.start(afterMillis: 1, repeatMillis: 1)
        #expect(harness.run { fired >= 3 })
        timer.stop()
        let stoppedAt = fired
        harness.runDue()
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
