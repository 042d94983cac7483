/// The store thread's connection and its prepared statements. The `links` table holds `digest` and then one column
/// per `LinkCodec.Field`, in that order.
final class LinkDatabase {
    static let schemaVersion = "1"
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
        database.limitValues(to: Int32(LinkCodec.maxValueBytes))
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
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """)
        selectStatement = try database.prepare("""
            SELECT caller, subject, claims, backend, bucket, key, response, created_at, expires_at, max_uses, uses, revoked
            FROM links WHERE digest = ?1
            """)
        useStatement = try database.prepare("""
            UPDATE links SET uses = presignd_noted(uses + 1)
            WHERE digest = ?1 AND revoked = 0 AND expires_at > ?2 AND (max_uses IS NULL OR uses < max_uses)
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
        for (index, value) in LinkCodec.fields(record).enumerated() {
            let parameter = Int32(index + 2)
            switch value {
            case nil: s.bind(parameter, nil as Int64?)
            case .text(let text)?: s.bind(parameter, text)
            case .integer(let number)?: s.bind(parameter, number)
            }
        }
        try s.run()
    }

    func select(_ digest: [UInt8]) throws(LinkStoreError) -> LinkRecord? {
        let s = selectStatement
        s.reset()
        defer { s.reset() }
        s.bind(1, digest)
        guard try s.step() else { return nil }
        let stored: [LinkCodec.Value?] = LinkCodec.Field.all.map { field in
            let column = Int32(field.rawValue)
            if s.isNull(column) { return nil }
            return field.isInteger ? .integer(s.int64(column)) : .text(s.text(column))
        }
        guard let record = LinkCodec.record(digest, stored) else {
            throw .unavailable("link database \(settings.path): a link record is corrupt")
        }
        return record
    }

    func use(_ digest: [UInt8], now: Int64) throws(LinkStoreError) -> LinkUse {
        let s = useStatement
        s.reset()
        s.bind(1, digest)
        s.bind(2, now)
        try s.run()
        // Counted: the update set `uses` through `presignd_noted` (RETURNING cost 66k instructions a use, this 40k).
        if database.changes == 1 { return .used(database.noted) }
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
}
