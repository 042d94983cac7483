import Crypto
import JSONKit
import RedisClient
import UVLoop

/// The live-link cap in Redis: one sorted set per caller, `presignd:live:<digest of the caller's name>`, whose
/// members are the caller's live links (hex digests) scored by their expiry. One script drops the expired members,
/// counts the rest and adds the new link, atomically, so creates racing on every worker of every replica never pass
/// the cap; only then is the link's own hash written. Revocation and the use that spends a link's last use remove
/// its member. Each script touches one key, as everywhere in this store (Redis Cluster through a proxy).
///
/// A create whose hash cannot be written removes its member again, best effort; a member left behind by a Redis
/// that failed twice in a row holds a place only until that link would have expired.
extension RedisLinkStore {
    /// KEYS[1] the caller's set; ARGV[1] now, ARGV[2] the cap, ARGV[3] the member, ARGV[4] its expiry (epoch
    /// seconds). 1 when added, 0 when the caller is at its cap (nothing written but the expired members' removal).
    static let reserveScript = RedisScript("""
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
        local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        redis.call('EXPIREAT', KEYS[1], last[2])
        return 1
        """)

    static func liveKey(_ caller: String) -> [UInt8] {
        var key = Array("presignd:live:".utf8)
        for byte in SHA256.hash(data: Array(caller.utf8)).prefix(16) { ASCII.appendHex(byte, to: &key) }
        return key
    }

    static func member(_ digest: [UInt8]) -> [UInt8] {
        var hex: [UInt8] = []
        for byte in digest { ASCII.appendHex(byte, to: &hex) }
        return hex
    }

    public func create(_ record: LinkRecord, maxLive: Int, worker: Int, loop: EventLoop?, _ done: @escaping (Result<LinkCreation, LinkStoreError>) -> Void) {
        guard let loop else { return done(.failure(Self.noLoop)) }
        let redis = pool.connection(settings, loop: loop)
        let args = [String(record.createdAt), String(maxLive)].map { Array($0.utf8) } + [Self.member(record.digest), Array(String(record.expiresAt).utf8)]
        redis.evalScript(Self.reserveScript, keys: [Self.liveKey(record.caller)], args: args) { [self] result in
            switch result {
            case .success(.integer(0)): done(.success(.tooMany))
            case .success(.integer(1)):
                create(record, worker: worker, loop: loop) { [self] created in
                    if case .failure = created { release(caller: record.caller, digest: record.digest, loop: loop) }
                    done(created.map { .created })
                }
            case .failure(let error):
                release(caller: record.caller, digest: record.digest, loop: loop)
                done(.failure(Self.failure(error)))
            case .success(let other):
                done(.failure(Self.unexpected(other, "reserve")))
            }
        }
    }

    /// Gives the link's place in its caller's set back (revoked, used up, or never made), then runs `then`
    /// whatever Redis answered: a revocation is answered once its place is free, or once that failed (the link is
    /// revoked either way, and a place left behind is dropped when the link would have expired).
    func release(caller: String, digest: [UInt8], loop: EventLoop?, then: @escaping () -> Void = {}) {
        guard let loop else { return then() }
        pool.connection(settings, loop: loop).send([Array("ZREM".utf8), Self.liveKey(caller), Self.member(digest)]) { _ in then() }
    }
}
