import UVLoop

/// The live-link cap in SQLite: the count and the insert run in one `BEGIN IMMEDIATE` transaction, which takes the
/// file's write lock before counting, so creates from other processes (or other stores on the file) wait their turn
/// and count after this one's insert. Live rows are found through two partial indexes that together hold exactly the
/// live links (unrevoked, not used up), by caller and expiry: one of links without a use limit, one of links under
/// theirs. A count reads at most the caller's live links whatever else the file holds; each index carries every
/// column the count tests, so the count never reads the table, and it stops at the cap, so a create costs at most
/// `max_live_per_caller` index entries on the store thread however many links the caller holds. A use of a link
/// without a limit touches neither index (neither names `uses`), so it writes one page, not two.
extension SQLiteLinkStore {
    public func create(_ record: LinkRecord, maxLive: Int, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkCreation, LinkStoreError>) -> Void) {
        run(writes: true, loop: loop, { db throws(LinkStoreError) in
            let outcome = try db.insert(record, maxLive: maxLive)
            if outcome == .created { db.sweepIfDue(now: record.createdAt) }
            return outcome
        }, done)
    }

    /// Live links of `caller` at `now`, counted up to `limit` (tests). Waits for the store thread.
    public func liveCount(caller: String, now: Int64, limit: Int64 = .max) -> Result<Int64, LinkStoreError> {
        wait(writes: false) { db throws(LinkStoreError) in try db.live.count(caller: caller, now: now, limit: limit) }
    }
}

extension LinkDatabase {
    func insert(_ record: LinkRecord, maxLive: Int) throws(LinkStoreError) -> LinkCreation {
        try live.begin.run()
        do throws(LinkStoreError) {
            if try live.count(caller: record.caller, now: record.createdAt, limit: Int64(maxLive)) >= Int64(maxLive) {
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
        // The earlier forms go: (caller, expires_at) made each count read the table for `uses`; the one index over
        // every live link with `uses` was rewritten by every use (a second page a redirect: 13.5k instructions).
        try database.execute("DROP INDEX IF EXISTS links_live_by_caller")
        try database.execute("DROP INDEX IF EXISTS links_live_by_caller_v2")
        try database.execute("""
            CREATE INDEX IF NOT EXISTS links_live_unlimited ON links (caller, expires_at)
            WHERE revoked = 0 AND max_uses IS NULL
            """)
        try database.execute("""
            CREATE INDEX IF NOT EXISTS links_live_limited ON links (caller, expires_at, max_uses, uses)
            WHERE revoked = 0 AND max_uses IS NOT NULL AND uses < max_uses
            """)
        begin = try database.prepare("BEGIN IMMEDIATE")
        commit = try database.prepare("COMMIT")
        rollback = try database.prepare("ROLLBACK")
        countStatement = try database.prepare("""
            SELECT count(*) FROM (
              SELECT 1 FROM links INDEXED BY links_live_unlimited
              WHERE caller = ?1 AND expires_at > ?2 AND revoked = 0 AND max_uses IS NULL
              UNION ALL
              SELECT 1 FROM links INDEXED BY links_live_limited
              WHERE caller = ?1 AND expires_at > ?2 AND revoked = 0 AND max_uses IS NOT NULL AND uses < max_uses
              LIMIT ?3)
            """)
    }

    /// Live links of `caller` at `now`, up to `limit`.
    func count(caller: String, now: Int64, limit: Int64) throws(LinkStoreError) -> Int64 {
        let s = countStatement
        s.reset()
        defer { s.reset() }
        s.bind(1, caller)
        s.bind(2, now)
        s.bind(3, limit)
        guard try s.step() else { return 0 }
        return s.int64(0)
    }
}
