import Dispatch
import Testing
import UVLoop
@testable import ShareLinks

/// The store thread's queue: jobs in the order handed in, at most `capacity` queued or running, the rest refused
/// at once, and a close that runs what was queued.
@Suite struct LinkStoreThreadTests {
    /// Jobs' marks, from the store thread.
    final class Marks: Sendable {
        let marks = Locked<[Int]>([])
        func add(_ mark: Int) { marks.withLock { $0.append(mark) } }
        var all: [Int] { marks.withLock { $0 } }
    }

    @Test func jobsRunInOrderAndTheBoundCountsQueuedAndRunning() {
        let thread = LinkStoreThread(name: "test-links", capacity: 3)
        let gate = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let marks = Marks()
        #expect(thread.submit { gate.wait() })
        #expect(thread.submit { marks.add(1) })
        #expect(thread.submit { marks.add(2) })
        // One running and two queued: the fourth is refused, whoever asks.
        #expect(thread.pending == 3)
        #expect(!thread.submit { marks.add(99) })
        gate.signal()
        // A job sees the jobs before it finished (their count given back): only itself is pending.
        while !thread.submit({ marks.add(100 + thread.pending); finished.signal() }) {}
        finished.wait()
        #expect(marks.all == [1, 2, 101])
    }

    @Test func aCloseRunsWhatWasQueuedAndRefusesTheRest() {
        let thread = LinkStoreThread(name: "test-links", capacity: 8)
        let gate = DispatchSemaphore(value: 0)
        let finished = DispatchSemaphore(value: 0)
        let marks = Marks()
        #expect(thread.submit { gate.wait() })
        for mark in 1...3 { #expect(thread.submit { marks.add(mark) }) }
        #expect(thread.submit { finished.signal() })
        thread.close()
        #expect(!thread.submit { marks.add(99) })
        gate.signal()
        finished.wait()
        #expect(marks.all == [1, 2, 3])
    }
}
