internal import CSQLite

/// The few SQLite calls the link store makes: one connection, statements prepared once, typed binds and columns.
/// Used by one worker thread at a time (the connection is opened with SQLITE_OPEN_NOMUTEX).
final class SQLiteDatabase {
    private let handle: OpaquePointer
    let path: String
    /// Where `presignd_noted(x)` keeps the value it last returned on this connection (`noted`).
    private let notedValue: UnsafeMutablePointer<Int64>

    /// Opens (creating if needed) the database at `path`, with a busy timeout: a write that finds the lock taken
    /// waits at most this long, then fails with `.busy`.
    init(path: String, busyTimeoutMillis: Int) throws(LinkStoreError) {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw .unavailable("cannot open link database \(path): \(message)")
        }
        handle = db
        self.path = path
        notedValue = .allocate(capacity: 1)
        notedValue.initialize(to: 0)
        // `presignd_noted(x)` is x, kept for `noted`: an UPDATE says the value it set without RETURNING, whose rows
        // SQLite gathers in a temporary b-tree opened and closed on every run. Statements only, never the schema.
        sqlite3_create_function_v2(db, "presignd_noted", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY, notedValue, { context, _, values in
            let value = sqlite3_value_int64(values![0])
            sqlite3_user_data(context)!.assumingMemoryBound(to: Int64.self).pointee = value
            sqlite3_result_int64(context, value)
        }, nil, nil, nil)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeoutMillis))
        sqlite3_extended_result_codes(db, 1)
    }

    deinit {
        sqlite3_close_v2(handle)
        notedValue.deallocate()
    }

    /// The value `presignd_noted(x)` last returned on this connection.
    var noted: Int64 { notedValue.pointee }

    /// Rows the last INSERT, UPDATE or DELETE that ran to its end on this connection changed.
    var changes: Int32 { sqlite3_changes(handle) }

    /// Runs statements that return no rows (schema, pragmas).
    func execute(_ sql: String) throws(LinkStoreError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc, doing: "run '\(sql.prefix(40))'") }
    }

    func prepare(_ sql: String) throws(LinkStoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc, doing: "prepare a statement") }
        return SQLiteStatement(statement, database: self)
    }

    /// The longest string or blob this connection reads or writes (`limitValues`), nil for SQLite's default.
    private(set) var maxValueBytes: Int32?

    /// Bounds every string and blob read back, as SQLite loads it: a row with a longer value fails its step with
    /// SQLITE_TOOBIG before the value is copied out, instead of loading a corrupt or hostile file's giant column.
    func limitValues(to bytes: Int32) {
        sqlite3_limit(handle, SQLITE_LIMIT_LENGTH, bytes)
        maxValueBytes = bytes
    }

    /// A result code as the store's error: lock trouble is `.busy`; anything else names the file and SQLite's
    /// own message.
    func error(_ rc: Int32, doing what: String) -> LinkStoreError {
        switch rc & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: return .busy
        case SQLITE_TOOBIG: return .unavailable("link database \(path): a value over \(maxValueBytes.map(String.init) ?? "SQLite's limit of") bytes is refused")
        default: return .unavailable("link database \(path): cannot \(what): \(String(cString: sqlite3_errmsg(handle))) (code \(rc))")
        }
    }

    /// The value of a one-row pragma or query, as text.
    func text(_ sql: String) throws(LinkStoreError) -> String? {
        let statement = try prepare(sql)
        guard try statement.step() else { return nil }
        return statement.text(0)
    }
}

/// A prepared statement, reset before each use. Binds copy their bytes, so nothing handed to SQLite must outlive
/// the call.
final class SQLiteStatement {
    private let statement: OpaquePointer
    /// Held strongly: the database closes only after its last statement is finalized.
    private let database: SQLiteDatabase

    init(_ statement: OpaquePointer, database: SQLiteDatabase) {
        self.statement = statement
        self.database = database
    }

    deinit { sqlite3_finalize(statement) }

    /// Clears the previous run and its bindings.
    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func bind(_ index: Int32, _ value: String?) {
        guard var value else { sqlite3_bind_null(statement, index); return }
        value.withUTF8 { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                _ = "".withCString { presignd_sqlite3_bind_text_copy(statement, index, $0, 0) }
                return
            }
            base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                _ = presignd_sqlite3_bind_text_copy(statement, index, $0, Int32(bytes.count))
            }
        }
    }

    func bind(_ index: Int32, _ value: [UInt8]) {
        value.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress, !bytes.isEmpty else {
                sqlite3_bind_zeroblob(statement, index, 0)
                return
            }
            _ = presignd_sqlite3_bind_blob_copy(statement, index, base, Int32(bytes.count))
        }
    }

    func bind(_ index: Int32, _ value: Int64?) {
        guard let value else { sqlite3_bind_null(statement, index); return }
        sqlite3_bind_int64(statement, index, value)
    }

    /// One step: true for a row, false when done. On an error the statement is reset, so its locks are let go.
    func step() throws(LinkStoreError) -> Bool {
        let rc = sqlite3_step(statement)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let failure = database.error(rc, doing: "run a statement")
            sqlite3_reset(statement)
            throw failure
        }
    }

    /// Steps to the end (statements that return no rows), then resets.
    func run() throws(LinkStoreError) {
        defer { sqlite3_reset(statement) }
        while try step() {}
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }

    func text(_ column: Int32) -> String {
        guard let bytes = sqlite3_column_text(statement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
    }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let bytes = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }
}
