import Dispatch
import Foundation
import UVLoop

/// One thread of its own that runs a store's blocking work (SQLite: disk I/O, waits for a lock) in the order it was
/// handed in, so no worker loop ever waits on a disk or a lock. At most `capacity` jobs are queued or running at
/// once; `submit` refuses one more at once (the store answers `.busy`, 503), so a stuck disk holds a bounded number
/// of requests rather than a queue that grows with the request rate.
///
/// The thread holds this queue, never the store: a store closes its queue when it goes, and the thread ends once
/// the jobs already queued have run. The queue is behind `Locked` (ThreadSanitizer sees it); the semaphore only
/// wakes the thread, one signal per job plus one for the close.
final class LinkStoreThread: Sendable {
    typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        /// Jobs before this index have been taken.
        var head = 0
        /// Queued plus running: what `capacity` bounds.
        var pending = 0
        var closed = false
    }

    let capacity: Int
    private let state = Locked(State())
    private let wake = DispatchSemaphore(value: 0)

    init(name: String, capacity: Int) {
        self.capacity = max(capacity, 1)
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Any thread: queues `job`; false (and `job` dropped) when `capacity` jobs are pending or the queue is closed.
    func submit(_ job: @escaping Job) -> Bool {
        let queued = state.withLock { state in
            guard !state.closed, state.pending < capacity else { return false }
            state.pending += 1
            state.jobs.append(job)
            return true
        }
        if queued { wake.signal() }
        return queued
    }

    /// Jobs queued or running now (tests).
    var pending: Int { state.withLock { $0.pending } }

    /// Takes no more jobs; the thread ends after running those already queued.
    func close() {
        state.withLock { $0.closed = true }
        wake.signal()
    }

    private func run() {
        while true {
            wake.wait()
            let next: Job? = state.withLock { state in
                guard state.head < state.jobs.count else { return nil }
                let job = state.jobs[state.head]
                state.head += 1
                if state.head == state.jobs.count || state.head >= capacity {
                    state.jobs.removeFirst(state.head)
                    state.head = 0
                }
                return job
            }
            guard let next else {
                // Every job has a signal of its own, so a wake with nothing queued is the close's.
                if state.withLock({ $0.closed }) { return }
                continue
            }
            next()
            state.withLock { $0.pending -= 1 }
        }
    }
}
