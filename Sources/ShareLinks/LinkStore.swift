import UVLoop

/// One share link as stored: what it opens, who made it, and how it may still be used.
public struct LinkRecord: Sendable, Equatable {
    public var digest: [UInt8]
    /// The creating caller's name and JWT subject (nil for API-key callers): the owners, and whose rules the link
    /// is checked against at every use.
    public var caller: String
    public var subject: String?
    /// The creating token's string claims, for rules whose patterns use `${claim}`.
    public var claims: [String: String]
    public var backend: String
    public var bucket: String
    public var key: String
    /// Response overrides by their API names (`content_disposition`), signed into every redirect.
    public var response: [String: String]
    public var createdAt: Int64
    public var expiresAt: Int64
    /// Nil: no limit.
    public var maxUses: Int64?
    public var uses: Int64
    public var revoked: Bool

    public init(
        digest: [UInt8], caller: String, subject: String?, claims: [String: String], backend: String, bucket: String,
        key: String, response: [String: String], createdAt: Int64, expiresAt: Int64, maxUses: Int64?, uses: Int64 = 0,
        revoked: Bool = false
    ) {
        self.digest = digest
        self.caller = caller
        self.subject = subject
        self.claims = claims
        self.backend = backend
        self.bucket = bucket
        self.key = key
        self.response = response
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.uses = uses
        self.revoked = revoked
    }

    /// The latest time a record may name (9999-12-31T23:59:59Z), as the signer's dates go no further.
    public static let latestTime: Int64 = 253_402_300_799

    /// Whether a record read back from a store is one presignd could have written: times from 0 to 9999 in order,
    /// uses not negative, a limit of at least one. Anything else (a store edited by hand, a hostile Redis) is corrupt,
    /// and would otherwise reach date arithmetic that traps on overflow.
    public var isWellFormed: Bool {
        createdAt >= 0 && createdAt <= expiresAt && expiresAt <= Self.latestTime && uses >= 0 && (maxUses ?? 1) >= 1
            && digest.count == 32
    }

    /// Why a link can no longer be used at `now` (epoch seconds), or nil while it can. Revocation wins over
    /// expiry, and expiry over use count, so the answer does not change as time passes on a revoked link.
    public func gone(at now: Int64) -> LinkGone? {
        if revoked { return .revoked }
        if now >= expiresAt { return .expired }
        if let maxUses, uses >= maxUses { return .usedUp }
        return nil
    }
}

public enum LinkGone: String, Sendable, Equatable {
    case revoked, expired, usedUp = "used_up"
}

/// What counting one use did.
public enum LinkUse: Sendable, Equatable {
    /// Counted: this was use number `n` (1-based).
    case used(Int64)
    case gone(LinkGone)
    case unknown
}

/// What opening a link (`LinkStore.open`) did: the answer of a fetch, the checks and a use, in that order.
public enum LinkOpening: Sendable, Equatable {
    /// It may be used: its record as read, and the number of the use counted (1-based), nil when none was asked.
    case opened(LinkRecord, use: Int64?)
    /// Its check refused it: nothing was counted.
    case refused(LinkRecord)
    case gone(LinkGone)
    case unknown
}

/// What a create under the live-link cap did.
public enum LinkCreation: Sendable, Equatable {
    case created
    /// The caller holds its `maxLive` live links already; nothing was written.
    case tooMany
}

/// Why a store could not answer. Both are the store's trouble, never the caller's: answered 503.
public enum LinkStoreError: Error, Sendable, Equatable {
    /// Another writer held the lock past the store's timeout, or the store has `maxPending` calls queued already.
    case busy
    /// The store cannot be reached or written (unopenable or read-only file, I/O error, Redis down).
    case unavailable(String)

    /// A record no store of ours writes (`LinkRecord.isWellFormed`): the store's trouble, answered 503, never used.
    public static let malformedRecord = LinkStoreError.unavailable("the store answered a malformed link record")

    public var message: String {
        switch self {
        case .busy: return "the link store is busy"
        case .unavailable(let why): return why
        }
    }
}

/// Where links live: embedded SQLite on one node, Redis for a fleet. Every call answers through `done`, on the
/// calling worker's loop, exactly once, usually later (SQLite's store thread, Redis's reply), and before returning
/// when it is refused at once (a full SQLite queue: `.busy`) or there is no loop. Nothing a store does blocks the
/// loop. `loop` is nil only in process (the in-process client, tests, tools): SQLite then waits for its thread and
/// answers before returning; Redis answers `.unavailable`. `worker` is the calling loop's index.
public protocol LinkStore: AnyObject, Sendable {
    /// What and where it is, for log lines (`SQLite /var/lib/presignd/links.sqlite`, `Redis 10.0.0.5:6379/0`).
    var label: String { get }
    /// Stores a new link (its digest is fresh from the CSPRNG).
    func create(_ record: LinkRecord, worker: Int, loop: EventLoop?, _ done: @escaping (Result<Void, LinkStoreError>) -> Void)
    /// Stores a new link unless its caller already holds `maxLive` live links (unrevoked, not used up, expiring after
    /// the record's `createdAt`). The count and the insert are one atomic step, so creates racing on any number of
    /// workers or replicas never pass the cap; a revoked or used-up link gives its place back.
    func create(_ record: LinkRecord, maxLive: Int, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkCreation, LinkStoreError>) -> Void)
    /// The link with this digest, or nil.
    func fetch(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkRecord?, LinkStoreError>) -> Void)
    /// Counts one use, atomically: only while the link is not revoked, not expired at `now` and under its limit.
    func use(_ digest: [UInt8], now: Int64, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkUse, LinkStoreError>) -> Void)
    /// Marks the link revoked; false when there is none.
    func revoke(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<Bool, LinkStoreError>) -> Void)
    /// A link opened at `now`: fetched (`.unknown` when there is none; a malformed record fails with
    /// `.malformedRecord`), `.gone` when it can no longer be used, `.refused` when `allow` says no, and otherwise
    /// `.opened`, with one use counted as `use` would when `counting`. The default is `fetch` then `use`; SQLite does it
    /// all in one call to its thread (`allow` then runs there: it must be pure).
    func open(
        _ digest: [UInt8], now: Int64, counting: Bool, worker: Int, loop: EventLoop?, allow: @escaping @Sendable (LinkRecord) -> Bool,
        _ done: @escaping (Result<LinkOpening, LinkStoreError>) -> Void)
}

extension LinkStore {
    public func open(
        _ digest: [UInt8], now: Int64, counting: Bool, worker: Int, loop: EventLoop?, allow: @escaping @Sendable (LinkRecord) -> Bool,
        _ done: @escaping (Result<LinkOpening, LinkStoreError>) -> Void
    ) {
        fetch(digest, worker: worker, loop: loop) { [self] fetched in
            let record: LinkRecord
            switch fetched {
            case .failure(let error): return done(.failure(error))
            case .success(nil): return done(.success(.unknown))
            case .success(let found?) where !found.isWellFormed: return done(.failure(.malformedRecord))
            case .success(let found?): record = found
            }
            guard let opening = LinkOpening.checked(record, now: now, counting: counting, allow: allow) else {
                return use(digest, now: now, worker: worker, loop: loop) { counted in done(counted.map { .counted($0, record) }) }
            }
            done(.success(opening))
        }
    }
}

extension LinkOpening {
    /// What a fetched record opens to before any use is counted: gone, refused, or opened without counting; nil
    /// when a use is to be counted next.
    static func checked(_ record: LinkRecord, now: Int64, counting: Bool, allow: (LinkRecord) -> Bool) -> LinkOpening? {
        if let gone = record.gone(at: now) { return .gone(gone) }
        guard allow(record) else { return .refused(record) }
        return counting ? nil : .opened(record, use: nil)
    }

    /// What counting a use of `record` opened to.
    static func counted(_ use: LinkUse, _ record: LinkRecord) -> LinkOpening {
        switch use {
        case .used(let number): return .opened(record, use: number)
        case .gone(let gone): return .gone(gone)
        case .unknown: return .unknown
        }
    }
}
