import Foundation
import Testing
@testable import ShareLinks

/// `links.max_live_per_caller` in SQLite: the count and the insert are one transaction, revoked, used-up and expired
/// links give their place back, and racing creates on separate connections (stores) never pass the cap.
@Suite struct LiveLinkCapTests {
    typealias T = SQLiteLinkStoreTests

    static func record(caller: String = "web", createdAt: Int64 = 1_000, expiresAt: Int64 = 2_000, maxUses: Int64? = nil) -> LinkRecord {
        LinkRecord(
            digest: LinkID.generate().digest, caller: caller, subject: nil, claims: [:], backend: "main", bucket: "b", key: "k",
            response: [:], createdAt: createdAt, expiresAt: expiresAt, maxUses: maxUses)
    }

    @Test func theCapCountsOnlyLiveLinksOfTheCaller() throws {
        let store = SQLiteLinkStore(settings: .init(path: T.tempPath()))
        let first = Self.record(maxUses: 1)
        let second = Self.record()
        #expect(try T.now { store.create(first, maxLive: 3, worker: 0, loop: nil, $0) }.get() == .created)
        #expect(try T.now { store.create(second, maxLive: 3, worker: 1, loop: nil, $0) }.get() == .created)
        #expect(try T.now { store.create(Self.record(expiresAt: 1_500), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .created)
        let refused = Self.record()
        #expect(try T.now { store.create(refused, maxLive: 3, worker: 1, loop: nil, $0) }.get() == .tooMany)
        // Nothing of the refused link was written.
        #expect(try T.now { store.fetch(refused.digest, worker: 0, loop: nil, $0) }.get() == nil)
        // Another caller has its own count.
        #expect(try T.now { store.create(Self.record(caller: "other"), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .created)
        // Spending the last use gives the place back.
        #expect(try T.now { store.use(first.digest, now: 1_100, worker: 0, loop: nil, $0) }.get() == .used(1))
        #expect(try store.liveCount(caller: "web", now: 1_100).get() == 2)
        #expect(try T.now { store.create(Self.record(), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .created)
        #expect(try T.now { store.create(Self.record(), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .tooMany)
        // So does a revocation.
        #expect(try T.now { store.revoke(second.digest, worker: 1, loop: nil, $0) }.get() == true)
        #expect(try T.now { store.create(Self.record(), maxLive: 3, worker: 1, loop: nil, $0) }.get() == .created)
        // And an expiry: at 1500 the link that expires then is no longer live.
        #expect(try store.liveCount(caller: "web", now: 1_499).get() == 3)
        #expect(try store.liveCount(caller: "web", now: 1_500).get() == 2)
        #expect(try T.now { store.create(Self.record(createdAt: 1_500), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .created)
        #expect(try T.now { store.create(Self.record(createdAt: 1_500), maxLive: 3, worker: 0, loop: nil, $0) }.get() == .tooMany)
    }

    /// The count behind the cap stops at the cap: a caller with many live links costs a create no more than
    /// `max_live_per_caller` index entries.
    @Test func theCountStopsAtTheCap() throws {
        let store = SQLiteLinkStore(settings: .init(path: T.tempPath()))
        for _ in 0..<12 { #expect(try T.now { store.create(Self.record(), maxLive: 100, worker: 0, loop: nil, $0) }.get() == .created) }
        #expect(try store.liveCount(caller: "web", now: 1_000).get() == 12)
        #expect(try store.liveCount(caller: "web", now: 1_000, limit: 5).get() == 5)
        #expect(try store.liveCount(caller: "web", now: 1_000, limit: 12).get() == 12)
        #expect(try T.now { store.create(Self.record(), maxLive: 12, worker: 0, loop: nil, $0) }.get() == .tooMany)
        #expect(try T.now { store.create(Self.record(), maxLive: 13, worker: 0, loop: nil, $0) }.get() == .created)
    }

    /// Eight stores on one file (eight processes, each with its own store thread and connection), each asked from a
    /// thread of its own, create 25 links each for one caller at once: exactly the cap are made, whatever the
    /// interleaving. A create that waited past its busy timeout (a loaded machine running the whole suite) is the
    /// documented busy answer, never a link: it is counted apart and never counts toward the cap.
    @Test func racingConnectionsNeverPassTheCap() throws {
        let path = T.tempPath()
        let stores = (0..<8).map { _ in SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: 10_000)) }
        let cap = 37
        let outcomes = CreateOutcomes()
        let threads = stores.map { store in
            Thread {
                for _ in 0..<25 {
                    let outcome = T.now { store.create(Self.record(), maxLive: cap, worker: 0, loop: nil, $0) }
                    outcomes.append(outcome)
                }
            }
        }
        for thread in threads { thread.start() }
        outcomes.wait(for: 8 * 25)
        let all = outcomes.all
        #expect(all.filter { $0 == .success(.created) }.count == cap)
        let busy = all.filter { $0 == .failure(.busy) }.count
        #expect(all.filter { $0 == .success(.tooMany) }.count == 8 * 25 - cap - busy)
        #expect(busy < 8 * 25 - cap)
        #expect(try stores[0].liveCount(caller: "web", now: 1_000).get() == Int64(cap))
    }
}

/// Outcomes gathered from several threads.
final class CreateOutcomes: @unchecked Sendable {
    private let lock = NSCondition()
    private var outcomes: [Result<LinkCreation, LinkStoreError>] = []

    func append(_ outcome: Result<LinkCreation, LinkStoreError>) {
        lock.lock()
        outcomes.append(outcome)
        lock.broadcast()
        lock.unlock()
    }

    func wait(for count: Int) {
        lock.lock()
        while outcomes.count < count { lock.wait() }
        lock.unlock()
    }

    var all: [Result<LinkCreation, LinkStoreError>] {
        lock.lock()
        defer { lock.unlock() }
        return outcomes
    }
}
