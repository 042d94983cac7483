import Dispatch
import Foundation
import Testing
import UVLoop
@testable import ShareLinks
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// SQLite work runs on the store thread, never on the loop that asks: every call returns before its answer, the
/// answers come on the asking loop in the order asked, a full queue is refused `.busy` at once, and an answer
/// for a loop that has stopped is dropped.
@Suite(.serialized) struct SQLiteOffLoopTests {
    typealias T = SQLiteLinkStoreTests

    static func text<V>(_ result: Result<V, LinkStoreError>) -> String {
        switch result {
        case .success(let value): return "\(value)"
        case .failure(let error): return "\(error)"
        }
    }

    /// Creates `id`, then holds the store thread on a job of its own (as a stuck disk would) until the answer is
    /// signalled. The create's answer can reach this thread before the store thread counts that job done, so this
    /// waits for the count first: a job still counted would take a place in the bounded queue (seen under
    /// ThreadSanitizer's slower schedule).
    static func createThenHold(_ id: LinkID, _ store: SQLiteLinkStore) -> DispatchSemaphore {
        _ = T.now { store.create(T.record(id), worker: 0, loop: nil, $0) }
        for _ in 0..<5_000 where store.thread.pending > 0 { usleep(1_000) }
        #expect(store.thread.pending == 0)
        let gate = DispatchSemaphore(value: 0)
        #expect(store.thread.submit { gate.wait() })
        return gate
    }

    @Test func callsReturnAtOnceAndAnswersComeOnTheLoopInTheOrderAsked() throws {
        let loop = TestLoop()
        defer { #expect(loop.close(), "every handle closed") }
        let store = SQLiteLinkStore(settings: .init(path: T.tempPath()))
        let on = loop.eventLoop
        let id = LinkID.generate()
        let record = T.record(id, maxUses: 2)
        let asker = pthread_self()
        var log: [String] = []
        var elsewhere = 0
        func note<V>(_ name: String) -> (Result<V, LinkStoreError>) -> Void {
            { result in
                if pthread_equal(pthread_self(), asker) == 0 { elsewhere += 1 }
                log.append("\(name) \(Self.text(result))")
            }
        }
        store.create(record, maxLive: 10, worker: 0, loop: on, note("create"))
        store.use(id.digest, now: 1_500, worker: 0, loop: on, note("use"))
        var read: LinkRecord?
        store.fetch(id.digest, worker: 0, loop: on) { result in
            read = try? result.get()
            log.append("fetch \(read?.uses ?? -1)")
        }
        store.use(id.digest, now: 1_500, worker: 0, loop: on, note("use"))
        store.use(id.digest, now: 1_500, worker: 0, loop: on, note("use"))
        store.revoke(id.digest, worker: 0, loop: on, note("revoke"))
        store.use(id.digest, now: 1_500, worker: 0, loop: on, note("use"))
        store.fetch(LinkID.generate().digest, worker: 0, loop: on, note("fetch"))
        // Nothing was answered inside a call: the loop has not turned since.
        #expect(log.isEmpty)
        #expect(store.answers.waiting(on: on) == 8)
        #expect(loop.run { log.count == 8 })
        var fetched = record
        fetched.uses = 1
        #expect(read == fetched)
        #expect(log == [
            "create created", "use used(1)", "fetch 1", "use used(2)", "use gone(ShareLinks.LinkGone.usedUp)",
            "revoke true", "use gone(ShareLinks.LinkGone.revoked)", "fetch nil",
        ])
        #expect(elsewhere == 0)
        #expect(store.answers.waiting(on: on) == 0)
    }

    /// `maxPending` 2: with one job running (held here, as a stuck disk would hold it) and one queued, the next
    /// call is answered `.busy` before it returns, from a loop or without one; once the queue moves, calls are taken
    /// again.
    @Test func aFullQueueIsRefusedBusyAtOnce() throws {
        let loop = TestLoop()
        defer { #expect(loop.close(), "every handle closed") }
        let store = SQLiteLinkStore(settings: .init(path: T.tempPath(), maxPending: 2))
        let on = loop.eventLoop
        let id = LinkID.generate()
        let gate = Self.createThenHold(id, store)
        var log: [String] = []
        store.use(id.digest, now: 1_500, worker: 0, loop: on) { log.append("use \(Self.text($0))") }
        #expect(log.isEmpty)
        store.fetch(id.digest, worker: 0, loop: on) { log.append("fetch \(Self.text($0))") }
        store.revoke(id.digest, worker: 0, loop: on) { log.append("revoke \(Self.text($0))") }
        store.create(T.record(LinkID.generate()), maxLive: 5, worker: 0, loop: on) { log.append("create \(Self.text($0))") }
        #expect(log == ["fetch busy", "revoke busy", "create busy"])
        // Without a loop too; asked from a thread of its own, so that a call that waited instead (no bound) fails
        // this test rather than hang it: the wait for the answer is only a guard.
        let noLoop = Locked<LinkStoreError?>(nil)
        let answered = DispatchSemaphore(value: 0)
        Thread {
            noLoop.withLock { $0 = T.failure(T.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }) }
            answered.signal()
        }.start()
        if answered.wait(timeout: .now() + 30) == .timedOut {
            Issue.record("a call without a loop waited on a full queue")
            gate.signal()
            answered.wait()
        }
        #expect(noLoop.withLock { $0 } == .busy)
        #expect(store.answers.waiting(on: on) == 1)
        gate.signal()
        #expect(loop.run { log.count == 4 })
        #expect(log.last == "use used(1)")
        #expect(try T.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }.get()?.uses == 1)
    }

    /// A loop that stops while its call is queued never gets the answer (its inbox drops the post), and nothing
    /// else breaks: the store thread goes on with the next call.
    @Test func anAnswerForAStoppedLoopIsDropped() throws {
        let loop = TestLoop()
        let store = SQLiteLinkStore(settings: .init(path: T.tempPath()))
        let id = LinkID.generate()
        let gate = Self.createThenHold(id, store)
        var answered = false
        store.use(id.digest, now: 1_500, worker: 0, loop: loop.eventLoop) { _ in answered = true }
        #expect(loop.close(), "every handle closed")
        gate.signal()
        // Queued behind the dropped answer, so it runs after it.
        #expect(try T.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }.get()?.uses == 1)
        #expect(!answered)
    }
}
