import Foundation
import Testing
@testable import ShareLinks
import RedisClient
import TestSupport

@Suite struct SQLiteLinkStoreTests {
    static func tempPath() -> String { NSTemporaryDirectory() + "presignd-links-\(UUID().uuidString).sqlite" }

    static func record(_ id: LinkID, expiresAt: Int64 = 2_000, maxUses: Int64? = nil) -> LinkRecord {
        LinkRecord(
            digest: id.digest, caller: "web", subject: "alice", claims: ["sub": "alice", "team": "a\"b\\c"], backend: "main",
            bucket: "uploads", key: "users/alice/ü.txt", response: ["content_disposition": "attachment; filename=\"a.txt\""],
            createdAt: 1_000, expiresAt: expiresAt, maxUses: maxUses)
    }

    /// Runs a store call that answers at once (SQLite) and returns its answer.
    static func now<T>(_ body: (@escaping (Result<T, LinkStoreError>) -> Void) -> Void) -> Result<T, LinkStoreError> {
        var answer: Result<T, LinkStoreError>?
        body { answer = $0 }
        return answer!
    }

    static func failure<T>(_ result: Result<T, LinkStoreError>) -> LinkStoreError? {
        if case .failure(let error) = result { return error }
        return nil
    }

    @Test func createFetchUseRevokeRoundTrip() throws {
        let store = SQLiteLinkStore(settings: .init(path: Self.tempPath()))
        let id = LinkID.generate()
        let record = Self.record(id, maxUses: 2)
        #expect(try Self.now { store.create(record, worker: 0, loop: nil, $0) }.get() == ())
        #expect(try Self.now { store.fetch(id.digest, worker: 1, loop: nil, $0) }.get() == record)
        #expect(try Self.now { store.use(id.digest, now: 1_500, worker: 0, loop: nil, $0) }.get() == .used(1))
        #expect(try Self.now { store.use(id.digest, now: 1_500, worker: 1, loop: nil, $0) }.get() == .used(2))
        #expect(try Self.now { store.use(id.digest, now: 1_500, worker: 0, loop: nil, $0) }.get() == .gone(.usedUp))
        #expect(try Self.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }.get()?.uses == 2)
        #expect(try Self.now { store.revoke(id.digest, worker: 0, loop: nil, $0) }.get() == true)
        #expect(try Self.now { store.use(id.digest, now: 1_500, worker: 0, loop: nil, $0) }.get() == .gone(.revoked))
        #expect(try Self.now { store.revoke(LinkID.generate().digest, worker: 0, loop: nil, $0) }.get() == false)
        #expect(try Self.now { store.use(LinkID.generate().digest, now: 1_500, worker: 0, loop: nil, $0) }.get() == .unknown)
        #expect(try Self.now { store.fetch(LinkID.generate().digest, worker: 0, loop: nil, $0) }.get() == nil)
    }

    @Test func expiryIsExactToTheSecond() throws {
        let store = SQLiteLinkStore(settings: .init(path: Self.tempPath()))
        let id = LinkID.generate()
        _ = Self.now { store.create(Self.record(id, expiresAt: 2_000), worker: 0, loop: nil, $0) }
        #expect(try Self.now { store.use(id.digest, now: 1_999, worker: 0, loop: nil, $0) }.get() == .used(1))
        #expect(try Self.now { store.use(id.digest, now: 2_000, worker: 0, loop: nil, $0) }.get() == .gone(.expired))
    }

    @Test func linksSurviveANewStoreOnTheSameFile() throws {
        let path = Self.tempPath()
        let id = LinkID.generate()
        do {
            let store = SQLiteLinkStore(settings: .init(path: path))
            _ = Self.now { store.create(Self.record(id), worker: 0, loop: nil, $0) }
            _ = Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) }
        }
        let reopened = SQLiteLinkStore(settings: .init(path: path))
        #expect(try Self.now { reopened.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) }.get() == .used(2))
    }

    @Test func sweepDeletesOnlyLinksExpiredBeforeTheCutoffInBatches() throws {
        let store = SQLiteLinkStore(settings: .init(path: Self.tempPath()))
        var ids: [LinkID] = []
        for expiry in [100, 200, 300, 5_000] as [Int64] {
            let id = LinkID.generate()
            ids.append(id)
            _ = Self.now { store.create(Self.record(id, expiresAt: expiry), worker: 0, loop: nil, $0) }
        }
        #expect(try store.sweep(before: 301, limit: 2).get() == 2)
        #expect(try store.sweep(before: 301, limit: 2).get() == 1)
        #expect(try store.sweep(before: 301, limit: 2).get() == 0)
        #expect(try Self.now { store.fetch(ids[3].digest, worker: 0, loop: nil, $0) }.get() != nil)
        #expect(try Self.now { store.fetch(ids[0].digest, worker: 0, loop: nil, $0) }.get() == nil)
    }

    @Test func aHeldWriteLockAnswersBusyAfterTheTimeoutAndReadsStillWork() throws {
        final class Clock: @unchecked Sendable { var nanos: UInt64 = 1 }
        let clock = Clock()
        let path = Self.tempPath()
        let store = SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: 20), monotonicNanos: { clock.nanos })
        let id = LinkID.generate()
        _ = Self.now { store.create(Self.record(id), worker: 0, loop: nil, $0) }
        let other = try SQLiteDatabase(path: path, busyTimeoutMillis: 1)
        try other.execute("BEGIN IMMEDIATE")
        #expect(Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) } == .failure(.busy))
        #expect(Self.failure(Self.now { store.create(Self.record(LinkID.generate()), worker: 0, loop: nil, $0) }) == .busy)
        #expect(Self.now { store.revoke(id.digest, worker: 0, loop: nil, $0) } == .failure(.busy))
        #expect(try Self.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }.get()?.uses == 0)
        try other.execute("COMMIT")
        clock.nanos += SQLiteLinkStore.busyCooldownNanos
        #expect(try Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) }.get() == .used(1))
    }

    /// After one busy wait, the store's writes fail at once for a second: a lock held from outside costs the store
    /// thread one wait a second, not one per request, so requests do not queue behind waits. Reads go on.
    @Test func aBusyLockIsWaitedForOnceASecond() throws {
        final class Clock: @unchecked Sendable { var nanos: UInt64 = 1_000_000_000 }
        let clock = Clock()
        let path = Self.tempPath()
        let store = SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: 5), monotonicNanos: { clock.nanos })
        let id = LinkID.generate()
        _ = Self.now { store.create(Self.record(id), worker: 0, loop: nil, $0) }
        let other = try SQLiteDatabase(path: path, busyTimeoutMillis: 1)
        try other.execute("BEGIN IMMEDIATE")
        #expect(Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) } == .failure(.busy))
        try other.execute("COMMIT")
        // The lock is free now, but the store is cooling down, whichever worker asks; another store on the file
        // (another process) never waited and writes.
        #expect(Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) } == .failure(.busy))
        #expect(Self.now { store.use(id.digest, now: 1_100, worker: 1, loop: nil, $0) } == .failure(.busy))
        let second = SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: 5), monotonicNanos: { clock.nanos })
        #expect(Self.now { second.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) } == .success(.used(1)))
        #expect(try Self.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }.get()?.uses == 1)
        clock.nanos += SQLiteLinkStore.busyCooldownNanos
        #expect(Self.now { store.use(id.digest, now: 1_100, worker: 0, loop: nil, $0) } == .success(.used(2)))
    }

    @Test func aPathThatCannotBeOpenedIsUnavailableAndRetried() throws {
        let dir = NSTemporaryDirectory() + "presignd-links-dir-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let store = SQLiteLinkStore(settings: .init(path: dir))
        guard case .failure(.unavailable(let message)) = Self.now({ store.fetch(LinkID.generate().digest, worker: 0, loop: nil, $0) }) else {
            Issue.record("a directory opened as a database")
            return
        }
        #expect(message.hasPrefix("cannot open link database \(dir): ") || message.contains(dir), "\(message)")
        #expect(throws: LinkStoreError.self) { try SQLiteLinkStore.prepare(.init(path: dir)) }
    }

    @Test func aNewerSchemaAndACorruptRecordAreRefusedNotMisread() throws {
        let path = Self.tempPath()
        try SQLiteLinkStore.prepare(.init(path: path))
        let id = LinkID.generate()
        let raw = try SQLiteDatabase(path: path, busyTimeoutMillis: 100)
        let store = SQLiteLinkStore(settings: .init(path: path))
        _ = Self.now { store.create(Self.record(id), worker: 0, loop: nil, $0) }
        try raw.execute("UPDATE links SET claims = '[1,2]'")
        guard case .failure(.unavailable(let message)) = Self.now({ store.fetch(id.digest, worker: 0, loop: nil, $0) }) else {
            Issue.record("a corrupt record was read")
            return
        }
        #expect(message == "link database \(path): a link record is corrupt")
        // Times and counts that would overflow date arithmetic downstream are corrupt too.
        for update in ["claims = '{}', created_at = -9223372036854775808", "created_at = 0, expires_at = 9223372036854775807",
                       "expires_at = 2000, uses = -1", "uses = 0, max_uses = 0"] {
            try raw.execute("UPDATE links SET \(update)")
            #expect(Self.failure(Self.now { store.fetch(id.digest, worker: 0, loop: nil, $0) }) == .unavailable("link database \(path): a link record is corrupt"), "\(update)")
        }
        try raw.execute("PRAGMA user_version = 9")
        #expect(throws: LinkStoreError.unavailable("link database \(path): schema version 9 is newer than this presignd (1)")) {
            try SQLiteLinkStore.prepare(.init(path: path))
        }
    }

    /// A column over 1 MiB in the file (another writer, a corrupt file) fails as SQLite reads it, before it is
    /// copied out; the link store answers unavailable rather than load it, and reads other links as before.
    @Test func aGiantColumnIsRefusedAsItIsRead() throws {
        let path = Self.tempPath()
        try SQLiteLinkStore.prepare(.init(path: path))
        let store = SQLiteLinkStore(settings: .init(path: path))
        let (big, small) = (LinkID.generate(), LinkID.generate())
        _ = Self.now { store.create(Self.record(big), worker: 0, loop: nil, $0) }
        _ = Self.now { store.create(Self.record(small), worker: 0, loop: nil, $0) }
        let raw = try SQLiteDatabase(path: path, busyTimeoutMillis: 100)
        try raw.execute("UPDATE links SET key = '\(String(repeating: "k", count: 1_048_577))' WHERE digest = x'\(big.digest.map { String(format: "%02x", $0) }.joined())'")
        #expect(Self.failure(Self.now { store.fetch(big.digest, worker: 0, loop: nil, $0) })
            == .unavailable("link database \(path): a value over 1048576 bytes is refused"))
        #expect(try Self.now { store.fetch(small.digest, worker: 0, loop: nil, $0) }.get() == Self.record(small))
        try raw.execute("UPDATE links SET key = '\(String(repeating: "k", count: 1_048_576))' WHERE digest = x'\(big.digest.map { String(format: "%02x", $0) }.joined())'")
        #expect(try Self.now { store.fetch(big.digest, worker: 0, loop: nil, $0) }.get()?.key.utf8.count == 1_048_576)
    }

    /// Differential: a random sequence of creates, uses, revokes and clock moves against a plain in-memory
    /// model of the rules; every answer must match.
    @Test func randomOperationsMatchAModel() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("SQLiteLinkStoreTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let store = SQLiteLinkStore(settings: .init(path: Self.tempPath()))
        var model: [LinkRecord] = []
        var ids: [LinkID] = []
        var now: Int64 = 1_000
        for step in 0..<1_500 {
            let worker = Int.random(in: 0..<3, using: &rng)
            switch Int.random(in: 0..<10, using: &rng) {
            case 0, 1:
                let id = LinkID.generate()
                var record = Self.record(id, expiresAt: now + Int64.random(in: 1...50, using: &rng),
                                         maxUses: Bool.random(using: &rng) ? Int64.random(in: 1...4, using: &rng) : nil)
                record.createdAt = now
                #expect(Self.failure(Self.now { store.create(record, worker: worker, loop: nil, $0) }) == nil)
                ids.append(id)
                model.append(record)
            case 2:
                now += Int64.random(in: 0...10, using: &rng)
            case 3 where !ids.isEmpty:
                let i = Int.random(in: 0..<ids.count, using: &rng)
                #expect(Self.now { store.revoke(ids[i].digest, worker: worker, loop: nil, $0) } == .success(true))
                model[i].revoked = true
            default:
                guard !ids.isEmpty else { continue }
                let i = Int.random(in: 0..<ids.count, using: &rng)
                let expected: LinkUse
                if let gone = model[i].gone(at: now) { expected = .gone(gone) } else { model[i].uses += 1; expected = .used(model[i].uses) }
                let got = Self.now { store.use(ids[i].digest, now: now, worker: worker, loop: nil, $0) }
                #expect(got == .success(expected), "seed \(seed) step \(step)")
                #expect(try Self.now { store.fetch(ids[i].digest, worker: worker, loop: nil, $0) }.get() == model[i], "seed \(seed) step \(step)")
            }
        }
    }
}

@Suite struct RedisLinkRecordTests {
    static func items(_ pairs: [(String, String)]) -> [RedisReply] {
        pairs.flatMap { [RedisReply.string(Array($0.0.utf8)), .string(Array($0.1.utf8))] }
    }

    static let good: [(String, String)] = [
        ("caller", "web"), ("claims", "{}"), ("backend", "main"), ("bucket", "b"), ("key", "k"), ("response", "{}"),
        ("created_at", "100"), ("expires_at", "200"), ("uses", "0"), ("revoked", "0"),
    ]

    /// A hostile or corrupted Redis answer is never a record: extreme times, negative counts, unknown or repeated
    /// fields, wrong types.
    @Test func onlyWellFormedHashesAreRecords() {
        let digest = [UInt8](repeating: 7, count: 32)
        #expect(RedisLinkStore.record(digest, Self.items(Self.good))?.expiresAt == 200)
        func with(_ field: String, _ value: String) -> [(String, String)] { Self.good.map { $0.0 == field ? ($0.0, value) : $0 } }
        let bad: [[(String, String)]] = [
            with("created_at", "-9223372036854775808"), with("expires_at", "9223372036854775807"), with("expires_at", "50"),
            with("uses", "-1"), with("revoked", "2"), with("created_at", "1e3"), with("claims", "[]"),
            Self.good + [("max_uses", "0")], Self.good + [("max_uses", "x")], Self.good + [("caller", "again")],
            Self.good + [("extra", "1")], Array(Self.good.dropLast()),
        ]
        for pairs in bad { #expect(RedisLinkStore.record(digest, Self.items(pairs)) == nil, "\(pairs)") }
        #expect(RedisLinkStore.record(digest, [.integer(1), .string([])]) == nil)
    }
}
