import UVLoop

/// The live-link cap in SQLite: the count and the insert run in one `BEGIN IMMEDIATE` transaction, which takes the
/// file's write lock before counting, so creates from other processes (or other stores on the file) wait their turn
/// and count after this one's insert. Live rows are found through a partial index over exactly the live links (unrevoked,
/// not used up), by caller and expiry, so a count reads at most the caller's live links whatever else the file holds.
extension SQLiteLinkStore {
    public func create(_ record: LinkRecord, maxLive: Int, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkCreation, LinkStoreError>) -> Void) {
        run(writes: true, loop: loop, { db throws(LinkStoreError) in
            let outcome = try db.insert(record, maxLive: maxLive)
            if outcome == .created { db.sweepIfDue(now: record.createdAt) }
            return outcome
        }, done)
    }

    /// Live links of `caller` at `now` (tests). Waits for the store thread.
    public func liveCount(caller: String, now: Int64) -> Result<Int64, LinkStoreError> {
        wait(writes: false) { db throws(LinkStoreError) in try db.live.count(caller: caller, now: now) }
    }
}

extension LinkDatabase {
    func insert(_ record: LinkRecord, maxLive: Int) throws(LinkStoreError) -> LinkCreation {
        try live.begin.run()
        do throws(LinkStoreError) {
            if try live.count(caller: record.caller, now: record.createdAt) >= Int64(maxLive) {
                try live.rollback.run()
                return .tooMany
            }
            try insert(record)
            try live.commit.run()
            return .created
        } catch {
            try? live.rollback.run()
            throw error
        }
    }
}

/// The statements of the cap, prepared once per connection; creating the index is a no-op once it exists.
final class LiveLinkStatements {
    let begin: SQLiteStatement
    let commit: SQLiteStatement
    let rollback: SQLiteStatement
    private let countStatement: SQLiteStatement

    init(_ database: SQLiteDatabase) throws(LinkStoreError) {
        try database.execute("""
            CREATE INDEX IF NOT EXISTS links_live_by_caller ON links (caller, expires_at)
            WHERE revoked = 0 AND (max_uses IS NULL OR uses < max_uses)
            """)
        begin = try database.prepare("BEGIN IMMEDIATE")
        commit = try database.prepare("COMMIT")
        rollback = try database.prepare("ROLLBACK")
        countStatement = try database.prepare("""
            SELECT count(*) FROM links INDEXED BY links_live_by_caller
            WHERE caller = ?1 AND expires_at > ?2 AND revoked = 0 AND (max_uses IS NULL OR uses < max_uses)
            """)
    }

    func count(caller: String, now: Int64) throws(LinkStoreError) -> Int64 {
        let s = countStatement
        s.reset()
        defer { s.reset() }
        s.bind(1, caller)
        s.bind(2, now)
        guard try s.step() else { return 0 }
        return s.int64(0)
    }
}
