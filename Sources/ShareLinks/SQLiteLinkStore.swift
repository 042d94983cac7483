import Dispatch
import JSONKit
import UVLoop

/// Links in an embedded SQLite file (WAL mode), one connection per worker loop, every statement prepared once.
///
/// Every call is one indexed statement on the caller's loop thread; it answers before returning. Writers that
/// find the file locked (another worker mid-write, or another process) wait at most `busyTimeoutMillis`, then
/// the call fails with `.busy` (answered 503), so a held lock costs a request that much time and never hangs it.
/// A connection that cannot be opened is tried again on the next call.
///
/// Durability: uses and creations commit with `synchronous=NORMAL` (WAL): a crash of presignd loses nothing; a
/// power cut may forget the last moments' uses and links. Revocation commits with `synchronous=FULL`, so a link
/// answered 204 stays revoked even across a power cut.
public final class SQLiteLinkStore: LinkStore, @unchecked Sendable {
    public struct Settings: Sendable, Equatable {
        public var path: String
        public var busyTimeoutMillis: Int
        /// Links this long past their expiry are deleted (until then they answer 410, not 404).
        public var keepExpiredSeconds: Int64
        /// A worker sweeps at most this often, and at most `sweepBatch` links per sweep.
        public var sweepEverySeconds: Int64
        public var sweepBatch: Int64

        public init(path: String, busyTimeoutMillis: Int = 50, keepExpiredSeconds: Int64 = 7 * 86_400,
                    sweepEverySeconds: Int64 = 60, sweepBatch: Int64 = 500) {
            self.path = path
            self.busyTimeoutMillis = busyTimeoutMillis
            self.keepExpiredSeconds = keepExpiredSeconds
            self.sweepEverySeconds = sweepEverySeconds
            self.sweepBatch = sweepBatch
        }
    }

    public let settings: Settings
    public var label: String { "SQLite \(settings.path)" }
    /// Worker i's connection, touched only on worker i's thread (`@unchecked Sendable` rests on this).
    private let connections: PerWorker<LinkDatabase?>
    /// After a write found the lock held past the busy timeout, that worker's writes fail at once (`.busy`) until
    /// this monotonic time: a lock held from outside (another process, a backup) costs each worker's loop one busy
    /// wait per `busyCooldownNanos`, not one per request. Reads are not affected (WAL readers do not wait).
    private let busyUntil: PerWorker<UInt64>
    static let busyCooldownNanos: UInt64 = 1_000_000_000
    private let monotonicNanos: @Sendable () -> UInt64

    public init(settings: Settings, workers: Int, monotonicNanos: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.settings = settings
        connections = PerWorker(count: max(workers, 1)) { _ in nil }
        busyUntil = PerWorker(count: max(workers, 1)) { _ in 0 }
        self.monotonicNanos = monotonicNanos
    }

    /// Opens the file once, creating it and its schema, then closes it: `serve` and `check-config` call this at
    /// start so a wrong path fails loudly there, not at the first share.
    public static func prepare(_ settings: Settings) throws(LinkStoreError) {
        _ = try LinkDatabase(settings)
    }

    private func database(_ worker: Int) -> Result<LinkDatabase, LinkStoreError> {
        if let open = connections[worker] { return .success(open) }
        do throws(LinkStoreError) {
            let opened = try LinkDatabase(settings)
            connections[worker] = opened
            return .success(opened)
        } catch {
            return .failure(error)
        }
    }

    /// Runs `body` on this worker's connection. A connection that failed for any reason but a busy lock is
    /// dropped, so the next call opens the file afresh (it may have been replaced, or its disk remounted).
    func with<T>(_ worker: Int, writes: Bool = false, _ body: (LinkDatabase) throws(LinkStoreError) -> T) -> Result<T, LinkStoreError> {
        if writes && monotonicNanos() < busyUntil[worker] { return .failure(.busy) }
        switch database(worker) {
        case .failure(let error): return .failure(error)
        case .success(let db):
            do throws(LinkStoreError) {
                return .success(try body(db))
            } catch {
                if error == .busy {
                    busyUntil[worker] = monotonicNanos() &+ Self.busyCooldownNanos
                } else {
                    connections[worker] = nil
                }
                return .failure(error)
            }
        }
    }

    public func create(_ record: LinkRecord, worker: Int, loop: EventLoop?, _ done: @escaping (Result<Void, LinkStoreError>) -> Void) {
        done(with(worker, writes: true) { db throws(LinkStoreError) in
            try db.insert(record)
            db.sweepIfDue(now: record.createdAt)
        })
    }

    public func fetch(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkRecord?, LinkStoreError>) -> Void) {
        done(with(worker) { db throws(LinkStoreError) in try db.select(digest) })
    }

    public func use(_ digest: [UInt8], now: Int64, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkUse, LinkStoreError>) -> Void) {
        done(with(worker, writes: true) { db throws(LinkStoreError) in
            let outcome = try db.use(digest, now: now)
            db.sweepIfDue(now: now)
            return outcome
        })
    }

    public func revoke(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<Bool, LinkStoreError>) -> Void) {
        done(with(worker, writes: true) { db throws(LinkStoreError) in try db.revoke(digest) })
    }

    /// Deletes links that expired before `before`, at most `limit` of them; how many went (tests, the sweep).
    public func sweep(before: Int64, limit: Int64, worker: Int) -> Result<Int, LinkStoreError> {
        with(worker) { db throws(LinkStoreError) in try db.sweep(before: before, limit: limit) }
    }
}

/// One worker's connection and its prepared statements.
final class LinkDatabase {
    static let schemaVersion = "1"
    /// No column of a link is longer than this (claims come from a token within the request head's bound); a
    /// longer one in the file is refused as SQLite reads it.
    static let maxValueBytes: Int32 = 1024 * 1024
    let database: SQLiteDatabase
    let settings: SQLiteLinkStore.Settings
    private let insertStatement: SQLiteStatement
    private let selectStatement: SQLiteStatement
    private let useStatement: SQLiteStatement
    private let stateStatement: SQLiteStatement
    private let revokeStatement: SQLiteStatement
    private let sweepStatement: SQLiteStatement
    private let synchronousFull: SQLiteStatement
    private let synchronousNormal: SQLiteStatement
    let live: LiveLinkStatements
    private var nextSweep: Int64 = 0

    init(_ settings: SQLiteLinkStore.Settings) throws(LinkStoreError) {
        self.settings = settings
        database = try SQLiteDatabase(path: settings.path, busyTimeoutMillis: settings.busyTimeoutMillis)
        database.limitValues(to: Self.maxValueBytes)
        let mode = try database.text("PRAGMA journal_mode=WAL")
        guard mode?.lowercased() == "wal" else {
            throw .unavailable("link database \(settings.path): cannot use WAL mode (journal_mode is \(mode ?? "unknown"))")
        }
        try database.execute("PRAGMA synchronous=NORMAL")
        let version = try database.text("PRAGMA user_version") ?? "0"
        switch version {
        case "0":
            try database.execute("""
                BEGIN IMMEDIATE;
                CREATE TABLE IF NOT EXISTS links (
                  digest BLOB PRIMARY KEY NOT NULL,
                  caller TEXT NOT NULL, subject TEXT, claims TEXT NOT NULL,
                  backend TEXT NOT NULL, bucket TEXT NOT NULL, key TEXT NOT NULL, response TEXT NOT NULL,
                  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, max_uses INTEGER,
                  uses INTEGER NOT NULL, revoked INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX IF NOT EXISTS links_by_expiry ON links (expires_at);
                PRAGMA user_version = \(Self.schemaVersion);
                COMMIT;
                """)
        case Self.schemaVersion: break
        default:
            throw .unavailable("link database \(settings.path): schema version \(version) is newer than this presignd (\(Self.schemaVersion))")
        }
        insertStatement = try database.prepare("""
            INSERT INTO links (digest, caller, subject, claims, backend, bucket, key, response, created_at, expires_at, max_uses, uses, revoked)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 0, 0)
            """)
        selectStatement = try database.prepare("""
            SELECT caller, subject, claims, backend, bucket, key, response, created_at, expires_at, max_uses, uses, revoked
            FROM links WHERE digest = ?1
            """)
        useStatement = try database.prepare("""
            UPDATE links SET uses = uses + 1
            WHERE digest = ?1 AND revoked = 0 AND expires_at > ?2 AND (max_uses IS NULL OR uses < max_uses)
            RETURNING uses
            """)
        stateStatement = try database.prepare("SELECT revoked, expires_at, max_uses, uses FROM links WHERE digest = ?1")
        revokeStatement = try database.prepare("UPDATE links SET revoked = 1 WHERE digest = ?1 RETURNING 1")
        sweepStatement = try database.prepare(
            "DELETE FROM links WHERE digest IN (SELECT digest FROM links WHERE expires_at < ?1 LIMIT ?2) RETURNING 1")
        synchronousFull = try database.prepare("PRAGMA synchronous=FULL")
        synchronousNormal = try database.prepare("PRAGMA synchronous=NORMAL")
        live = try LiveLinkStatements(database)
    }

    func insert(_ record: LinkRecord) throws(LinkStoreError) {
        let s = insertStatement
        s.reset()
        s.bind(1, record.digest)
        s.bind(2, record.caller)
        s.bind(3, record.subject)
        s.bind(4, Self.encode(record.claims))
        s.bind(5, record.backend)
        s.bind(6, record.bucket)
        s.bind(7, record.key)
        s.bind(8, Self.encode(record.response))
        s.bind(9, record.createdAt)
        s.bind(10, record.expiresAt)
        s.bind(11, record.maxUses)
        try s.run()
    }

    func select(_ digest: [UInt8]) throws(LinkStoreError) -> LinkRecord? {
        let s = selectStatement
        s.reset()
        defer { s.reset() }
        s.bind(1, digest)
        guard try s.step() else { return nil }
        guard let claims = Self.decode(s.text(2)), let response = Self.decode(s.text(6)) else {
            throw .unavailable("link database \(settings.path): a link record is corrupt")
        }
        let record = LinkRecord(
            digest: digest, caller: s.text(0), subject: s.isNull(1) ? nil : s.text(1), claims: claims,
            backend: s.text(3), bucket: s.text(4), key: s.text(5), response: response, createdAt: s.int64(7),
            expiresAt: s.int64(8), maxUses: s.isNull(9) ? nil : s.int64(9), uses: s.int64(10), revoked: s.int64(11) != 0)
        guard record.isWellFormed else { throw .unavailable("link database \(settings.path): a link record is corrupt") }
        return record
    }

    func use(_ digest: [UInt8], now: Int64) throws(LinkStoreError) -> LinkUse {
        let s = useStatement
        s.reset()
        s.bind(1, digest)
        s.bind(2, now)
        if try s.step() {
            let uses = s.int64(0)
            try s.run()  // to the end, so the statement's write commits
            return .used(uses)
        }
        s.reset()
        // Not counted: say why, from the row as it is now.
        let state = stateStatement
        state.reset()
        defer { state.reset() }
        state.bind(1, digest)
        guard try state.step() else { return .unknown }
        let record = LinkRecord(
            digest: digest, caller: "", subject: nil, claims: [:], backend: "", bucket: "", key: "", response: [:],
            createdAt: 0, expiresAt: state.int64(1), maxUses: state.isNull(2) ? nil : state.int64(2),
            uses: state.int64(3), revoked: state.int64(0) != 0)
        // The update refused it, so one of the three holds; `.usedUp` if a racing use took the last one.
        return .gone(record.gone(at: now) ?? .usedUp)
    }

    func revoke(_ digest: [UInt8]) throws(LinkStoreError) -> Bool {
        try synchronousFull.run()
        defer { try? synchronousNormal.run() }
        let s = revokeStatement
        s.reset()
        s.bind(1, digest)
        let found = try s.step()
        try s.run()
        return found
    }

    func sweep(before: Int64, limit: Int64) throws(LinkStoreError) -> Int {
        let s = sweepStatement
        s.reset()
        s.bind(1, before)
        s.bind(2, limit)
        var count = 0
        while try s.step() { count += 1 }
        s.reset()
        return count
    }

    /// At most once per `sweepEverySeconds` per worker, deletes up to `sweepBatch` long-expired links. A sweep
    /// that finds the lock busy is skipped: the next one catches up.
    func sweepIfDue(now: Int64) {
        guard now >= nextSweep else { return }
        nextSweep = now + settings.sweepEverySeconds
        _ = try? sweep(before: now - settings.keepExpiredSeconds, limit: settings.sweepBatch)
    }

    static func encode(_ map: [String: String]) -> String {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        for key in map.keys.sorted() { writer.string(key, map[key]!) }
        writer.endObject()
        return writer.text
    }

    static func decode(_ text: String) -> [String: String]? {
        guard case .object(let members)? = try? JSONValue.parse(Array(text.utf8)) else { return nil }
        var out: [String: String] = [:]
        for (key, value) in members {
            guard case .string(let string) = value else { return nil }
            out[key] = string
        }
        return out
    }
}
