import Dispatch
import UVLoop

/// Links in an embedded SQLite file (WAL mode): one connection, every statement prepared once, used only by the
/// store's own thread (`LinkStoreThread`), never by a worker loop.
///
/// A call from a worker queues one job and returns; the thread runs the jobs in order and posts each answer back to
/// the loop that asked (`LinkAnswers`), so a slow disk or a held lock stalls that thread, never a loop. At most
/// `Settings.maxPending` jobs (1024 by default) are queued or running; one more is answered `.busy` (503) at once.
/// Called with no loop (the in-process client, tests, tools: there is no loop to stall), a call waits on the
/// calling thread for the store thread's answer and answers before returning.
///
/// Writers that find the file locked (another process, or another store on the same file) wait at most
/// `busyTimeoutMillis` on the store thread, then the call fails with `.busy` (answered 503), so a held lock costs
/// a request that much time and never hangs it. A connection that cannot be opened is tried again on the next call.
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
        /// The store sweeps at most this often, and at most `sweepBatch` links per sweep.
        public var sweepEverySeconds: Int64
        public var sweepBatch: Int64
        /// Calls queued or running on the store thread at most; one more is refused with `.busy`.
        public var maxPending: Int

        public init(path: String, busyTimeoutMillis: Int = 50, keepExpiredSeconds: Int64 = 7 * 86_400,
                    sweepEverySeconds: Int64 = 60, sweepBatch: Int64 = 500, maxPending: Int = 1024) {
            self.path = path
            self.busyTimeoutMillis = busyTimeoutMillis
            self.keepExpiredSeconds = keepExpiredSeconds
            self.sweepEverySeconds = sweepEverySeconds
            self.sweepBatch = sweepBatch
            self.maxPending = maxPending
        }
    }

    public let settings: Settings
    public var label: String { "SQLite \(settings.path)" }
    let thread: LinkStoreThread
    let answers = LinkAnswers()
    /// The connection, touched only on the store thread (`@unchecked Sendable` rests on this and on `busyUntil`).
    private var connection: LinkDatabase?
    /// After a write found the lock held past the busy timeout, writes fail at once (`.busy`) until this monotonic
    /// time: a lock held from outside (another process, a backup) costs the store thread one busy wait per
    /// `busyCooldownNanos`, not one per request, so the queue behind it does not fill with waits. Reads are not
    /// affected (WAL readers do not wait).
    private var busyUntil: UInt64 = 0
    static let busyCooldownNanos: UInt64 = 1_000_000_000
    private let monotonicNanos: @Sendable () -> UInt64

    public init(settings: Settings, monotonicNanos: @escaping @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds }) {
        self.settings = settings
        self.monotonicNanos = monotonicNanos
        thread = LinkStoreThread(name: "presignd-links", capacity: settings.maxPending)
    }

    deinit { thread.close() }

    /// Opens the file once, creating it and its schema, then closes it: `serve` and `check-config` call this at
    /// start so a wrong path fails loudly there, not at the first share.
    public static func prepare(_ settings: Settings) throws(LinkStoreError) {
        _ = try LinkDatabase(settings)
    }

    /// On the store thread: runs `body` on the connection. A connection that failed for any reason but a busy
    /// lock is dropped, so the next call opens the file afresh (it may have been replaced, or its disk remounted).
    private func execute<T>(writes: Bool, _ body: (LinkDatabase) throws(LinkStoreError) -> T) -> Result<T, LinkStoreError> {
        if writes && monotonicNanos() < busyUntil { return .failure(.busy) }
        do throws(LinkStoreError) {
            let db: LinkDatabase
            if let open = connection {
                db = open
            } else {
                db = try LinkDatabase(settings)
                connection = db
            }
            return .success(try body(db))
        } catch {
            if error == .busy {
                // A write refused during the cool-down (`open`) does not lengthen it.
                let now = monotonicNanos()
                if now >= busyUntil { busyUntil = now &+ Self.busyCooldownNanos }
            } else {
                connection = nil
            }
            return .failure(error)
        }
    }

    /// Runs `body` on the store thread and answers `done` on `loop` (posted back), or, with no loop, waits here
    /// for the answer. A full queue answers `.busy` at once, before returning.
    func run<T: Sendable>(
        writes: Bool, loop: EventLoop?, _ body: @escaping @Sendable (LinkDatabase) throws(LinkStoreError) -> T,
        _ done: @escaping (Result<T, LinkStoreError>) -> Void
    ) {
        guard let loop else { return done(wait(writes: writes, body)) }
        let ticket = answers.wait(on: loop, done)
        let queued = thread.submit { [self] in answers.answer(ticket, on: loop, execute(writes: writes, body)) }
        if !queued {
            answers.take(ticket, on: loop, as: T.self)?.done(.failure(.busy))
        }
    }

    /// Runs `body` on the store thread and waits for its answer on the calling thread (no loop to stall).
    func wait<T: Sendable>(writes: Bool, _ body: @escaping @Sendable (LinkDatabase) throws(LinkStoreError) -> T) -> Result<T, LinkStoreError> {
        let answer = Locked<Result<T, LinkStoreError>?>(nil)
        let finished = DispatchSemaphore(value: 0)
        let queued = thread.submit { [self] in
            let result = execute(writes: writes, body)
            answer.withLock { $0 = result }
            finished.signal()
        }
        guard queued else { return .failure(.busy) }
        finished.wait()
        return answer.withLock { $0 } ?? .failure(.busy)
    }

    public func create(_ record: LinkRecord, worker: Int, loop: EventLoop?, _ done: @escaping (Result<Void, LinkStoreError>) -> Void) {
        run(writes: true, loop: loop, { db throws(LinkStoreError) in
            try db.insert(record)
            db.sweepIfDue(now: record.createdAt)
        }, done)
    }

    public func fetch(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkRecord?, LinkStoreError>) -> Void) {
        run(writes: false, loop: loop, { db throws(LinkStoreError) in try db.select(digest) }, done)
    }

    public func use(_ digest: [UInt8], now: Int64, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkUse, LinkStoreError>) -> Void) {
        run(writes: true, loop: loop, { db throws(LinkStoreError) in
            let outcome = try db.use(digest, now: now)
            db.sweepIfDue(now: now)
            return outcome
        }, done)
    }

    /// The fetch, the checks and the use in one job on the store thread (`LinkStore.open`): one trip there and
    /// back per redirect, not two.
    public func open(
        _ digest: [UInt8], now: Int64, counting: Bool, worker: Int, loop: EventLoop?, allow: @escaping @Sendable (LinkRecord) -> Bool,
        _ done: @escaping (Result<LinkOpening, LinkStoreError>) -> Void
    ) {
        run(writes: false, loop: loop, { [self] db throws(LinkStoreError) in
            guard let record = try db.select(digest) else { return .unknown }
            if let opening = LinkOpening.checked(record, now: now, counting: counting, allow: allow) { return opening }
            // The use is a write: refused at once while the lock cools down, as `use` is.
            if monotonicNanos() < busyUntil { throw .busy }
            let counted = try db.use(digest, now: now)
            db.sweepIfDue(now: now)
            return .counted(counted, record)
        }, done)
    }

    public func revoke(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<Bool, LinkStoreError>) -> Void) {
        run(writes: true, loop: loop, { db throws(LinkStoreError) in try db.revoke(digest) }, done)
    }

    /// Deletes links that expired before `before`, at most `limit` of them; how many went (tests). Waits for the
    /// store thread.
    public func sweep(before: Int64, limit: Int64) -> Result<Int, LinkStoreError> {
        wait(writes: false) { db throws(LinkStoreError) in try db.sweep(before: before, limit: limit) }
    }
}
