import Foundation
import Testing
import UVLoop

/// `Locked` and `PerWorker` under real threads: counts that lose updates without the lock or the per-worker boxes.
struct LockedTests {
    @Test func contendedIncrementsAreNeverLost() {
        let counter = Locked(0)
        let threads = 4
        let perThread = 50_000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for _ in 0..<perThread { counter.withLock { $0 += 1 } }
        }
        #expect(counter.withLock { $0 } == threads * perThread)
    }

    @Test func withLockReturnsAndRethrows() {
        struct Refused: Error {}
        let locked = Locked([1, 2])
        #expect(locked.withLock { values -> Int in
            values.append(3)
            return values.count
        } == 3)
        #expect(throws: Refused.self) { try locked.withLock { _ in throw Refused() } }
        #expect(locked.withLock { $0 } == [1, 2, 3])
    }

    @Test func perWorkerBoxesAreIndependentAndIndexWrapsAround() {
        let rows = PerWorker(count: 4) { [$0] }
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            for step in 0..<10_000 { rows.withValue(worker) { $0.append(step) } }
        }
        for worker in 0..<4 {
            #expect(rows[worker].count == 10_001)
            #expect(rows[worker].first == worker && rows[worker].last == 9_999)
        }
        #expect(rows.count == 4)
        rows[5] = [99]  // index 5 is worker 1's box
        #expect(rows[1] == [99])
        #expect(PerWorker(count: 0) { $0 }.count == 1)
    }
}
