import JSONKit
import RedisClient
import UVLoop

/// Links in Redis, for a fleet: every replica sees a creation, a use and a revocation at once, and nothing is
/// cached, so a revoked link is refused by every replica on its next use.
///
/// One hash per link, `presignd:link:<hex digest>`, holding the record's fields as `LinkCodec` writes them, and one
/// key per command or script, so the layout works unchanged on Redis Cluster. Use and revoke are Lua scripts: the
/// checks and the count happen in one step on the server, so 50 replicas racing for the last use of a link let
/// exactly one through. A link's key expires `keepExpiredSeconds` after the link does (until then it answers 410,
/// not 404).
///
/// Links fail closed: any Redis trouble is `.unavailable` (503), never a redirect.
public final class RedisLinkStore: LinkStore, @unchecked Sendable {
    let pool: RedisConnectionPool
    let settings: RedisSettings
    let keepExpiredSeconds: Int64
    public var label: String { "Redis \(settings.url.host):\(settings.url.port)/\(settings.url.database)" }

    public init(pool: RedisConnectionPool, settings: RedisSettings, keepExpiredSeconds: Int64 = 7 * 86_400) {
        self.pool = pool
        self.settings = settings
        self.keepExpiredSeconds = keepExpiredSeconds
    }

    /// KEYS[1] the link; ARGV[1] the key's expiry (epoch seconds); ARGV[2...] field, value pairs. 1 when made, 0
    /// when the key exists (an id is 192 random bits, so that means a bug, and nothing is overwritten).
    static let createScript = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
        redis.call('HSET', KEYS[1], unpack(ARGV, 2))
        redis.call('EXPIREAT', KEYS[1], ARGV[1])
        return 1
        """)

    /// KEYS[1] the link; ARGV[1] now (epoch seconds). {1, uses} when counted, {1, uses, caller} when that was its
    /// last use (its place in the caller's live set is then given back); {0, why} when not counted.
    static let useScript = RedisScript("""
        local h = redis.call('HMGET', KEYS[1], 'revoked', 'expires_at', 'max_uses', 'uses', 'caller')
        if not h[2] then return {0, 'unknown'} end
        if h[1] == '1' then return {0, 'revoked'} end
        if tonumber(ARGV[1]) >= tonumber(h[2]) then return {0, 'expired'} end
        if h[3] and tonumber(h[4]) >= tonumber(h[3]) then return {0, 'used_up'} end
        local n = redis.call('HINCRBY', KEYS[1], 'uses', 1)
        if h[3] and n >= tonumber(h[3]) then return {1, n, h[5] or ''} end
        return {1, n}
        """)

    /// KEYS[1] the link. {1, caller} when it exists (now revoked; its live place is then given back), 0 when not.
    static let revokeScript = RedisScript("""
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        redis.call('HSET', KEYS[1], 'revoked', '1')
        return {1, redis.call('HGET', KEYS[1], 'caller') or ''}
        """)

    static let keyPrefix = Array("presignd:link:".utf8)

    static func key(_ digest: [UInt8]) -> [UInt8] {
        var key = keyPrefix
        key.reserveCapacity(keyPrefix.count + 2 * digest.count)
        for byte in digest { ASCII.appendHex(byte, to: &key) }
        return key
    }

    private func connection(_ loop: EventLoop?) -> RedisConnection? {
        loop.map { pool.connection(settings, loop: $0) }
    }

    static func failure(_ error: RedisError) -> LinkStoreError { .unavailable("redis: \(error.description)") }

    static func unexpected(_ reply: RedisReply, _ what: String) -> LinkStoreError {
        if case .error(let message) = reply { return .unavailable("redis: \(what) failed: \(message.prefix(200))") }
        return .unavailable("redis: \(what) answered something unexpected")
    }

    static let noLoop = LinkStoreError.unavailable("redis: no event loop (links in Redis are served by the server's workers)")

    public func create(_ record: LinkRecord, worker: Int, loop: EventLoop?, _ done: @escaping (Result<Void, LinkStoreError>) -> Void) {
        guard let redis = connection(loop) else { return done(.failure(Self.noLoop)) }
        var args: [[UInt8]] = [Array(String(record.expiresAt + keepExpiredSeconds).utf8)]
        for (name, value) in LinkCodec.hash(record) {
            args.append(Array(name.utf8))
            args.append(Array(value.utf8))
        }
        redis.evalScript(Self.createScript, keys: [Self.key(record.digest)], args: args) { result in
            switch result {
            case .failure(let error): done(.failure(Self.failure(error)))
            case .success(.integer(1)): done(.success(()))
            case .success(.integer(0)): done(.failure(.unavailable("redis: a link with this id already exists")))
            case .success(let other): done(.failure(Self.unexpected(other, "create")))
            }
        }
    }

    public func fetch(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkRecord?, LinkStoreError>) -> Void) {
        guard let redis = connection(loop) else { return done(.failure(Self.noLoop)) }
        redis.send([Array("HGETALL".utf8), Self.key(digest)]) { result in
            switch result {
            case .failure(let error): done(.failure(Self.failure(error)))
            case .success(.array(let items)):
                if items.isEmpty { return done(.success(nil)) }
                done(Self.record(digest, items).map { .success($0) } ?? .failure(.unavailable("redis: a link record is corrupt")))
            case .success(let other): done(.failure(Self.unexpected(other, "fetch")))
            }
        }
    }

    /// A record from HGETALL's field/value list, or nil unless it is a list of string pairs that `LinkCodec` reads
    /// as a record.
    static func record(_ digest: [UInt8], _ items: [RedisReply]) -> LinkRecord? {
        guard items.count % 2 == 0 else { return nil }
        var pairs: [(name: [UInt8], value: [UInt8])] = []
        var index = 0
        while index < items.count {
            guard case .string(let name) = items[index], case .string(let value) = items[index + 1] else { return nil }
            pairs.append((name, value))
            index += 2
        }
        return LinkCodec.record(digest, hash: pairs)
    }

    public func use(_ digest: [UInt8], now: Int64, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkUse, LinkStoreError>) -> Void) {
        guard let redis = connection(loop) else { return done(.failure(Self.noLoop)) }
        redis.evalScript(Self.useScript, keys: [Self.key(digest)], args: [Array(String(now).utf8)]) { [self] result in
            switch result {
            case .failure(let error): done(.failure(Self.failure(error)))
            case .success(.array(let pair)) where pair.count == 3:
                guard case (.integer(1), .integer(let uses), .string(let caller)) = (pair[0], pair[1], pair[2]) else {
                    return done(.failure(Self.unexpected(.array(pair), "use")))
                }
                release(caller: String(decoding: caller, as: UTF8.self), digest: digest, loop: loop) { done(.success(.used(uses))) }
            case .success(.array(let pair)) where pair.count == 2:
                switch (pair[0], pair[1]) {
                case (.integer(1), .integer(let uses)): done(.success(.used(uses)))
                case (.integer(0), .string(let why)):
                    switch String(decoding: why, as: UTF8.self) {
                    case "unknown": done(.success(.unknown))
                    case "revoked": done(.success(.gone(.revoked)))
                    case "expired": done(.success(.gone(.expired)))
                    case "used_up": done(.success(.gone(.usedUp)))
                    default: done(.failure(Self.unexpected(.array(pair), "use")))
                    }
                default: done(.failure(Self.unexpected(.array(pair), "use")))
                }
            case .success(let other): done(.failure(Self.unexpected(other, "use")))
            }
        }
    }

    public func revoke(_ digest: [UInt8], worker: Int, loop: EventLoop?, _ done: @escaping (Result<Bool, LinkStoreError>) -> Void) {
        guard let redis = connection(loop) else { return done(.failure(Self.noLoop)) }
        redis.evalScript(Self.revokeScript, keys: [Self.key(digest)], args: []) { [self] result in
            switch result {
            case .failure(let error): done(.failure(Self.failure(error)))
            case .success(.integer(0)): done(.success(false))
            case .success(.array(let pair)) where pair.count == 2 && pair[0] == .integer(1):
                guard case .string(let caller) = pair[1] else { return done(.failure(Self.unexpected(.array(pair), "revoke"))) }
                release(caller: String(decoding: caller, as: UTF8.self), digest: digest, loop: loop) { done(.success(true)) }
            case .success(let other): done(.failure(Self.unexpected(other, "revoke")))
            }
        }
    }
}
