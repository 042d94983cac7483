import PresignConfig
import UVLoop

/// API-key callers by the SHA-256 of their key, built once per configuration generation. A lookup hashes the
/// presented key and finds its caller in one table probe, however many callers there are. The table is keyed by a
/// digest, so the probe's timing depends on the digest, which says nothing about the key (a preimage of SHA-256
/// would be needed); no compare ever runs on the key itself.
struct APIKeyIndex: Sendable {
    struct Digest: Hashable, Sendable {
        let words: (UInt64, UInt64, UInt64, UInt64)

        init?(_ bytes: [UInt8]) {
            guard bytes.count == 32 else { return nil }
            func word(_ at: Int) -> UInt64 {
                var value: UInt64 = 0
                for index in at..<(at + 8) { value = value << 8 | UInt64(bytes[index]) }
                return value
            }
            words = (word(0), word(8), word(16), word(24))
        }

        static func == (a: Digest, b: Digest) -> Bool { a.words == b.words }
        func hash(into hasher: inout Hasher) {
            hasher.combine(words.0)
            hasher.combine(words.1)
            hasher.combine(words.2)
            hasher.combine(words.3)
        }
    }

    private let callers: [Digest: Int]

    init(_ all: [Caller]) {
        var table: [Digest: Int] = [:]
        for (index, caller) in all.enumerated() {
            // The first caller with a key wins, as the config's order says.
            if case .apiKey(let digest) = caller.auth, let key = Digest(digest), table[key] == nil { table[key] = index }
        }
        callers = table
    }

    /// The index (in the config's `callers`) of the caller whose key has this SHA-256 digest.
    func caller(digest: [UInt8]) -> Int? { Digest(digest).flatMap { callers[$0] } }
}

/// Verified JWTs, per worker loop, so a client that presents the same token on every request pays for its
/// signature once a minute instead of on each request. An entry holds the caller and claims the full verification
/// found, and is used only while the token is still inside its `exp` (with the caller's leeway, less a second) and
/// for at most `maxAge` seconds, so a key removed from a JWKS stops working within that. Built per configuration
/// generation: a reload starts empty. Bounded: at most `capacity` tokens of at most `maxTokenBytes` each per
/// worker; when full, expired entries go, and if none had, all of them (cheap and rare: 1,024 distinct live tokens a
/// minute on one worker).
final class VerifiedTokens: Sendable {
    struct Entry {
        let caller: Int
        let claims: [String: String]
        let validUntil: Double
    }

    static let capacity = 1024
    static let maxTokenBytes = 2048
    static let maxAge = 60.0

    private let rows: PerWorker<[String: Entry]>

    init(workers: Int) {
        rows = PerWorker(count: max(workers, 1)) { _ in [:] }
    }

    func lookup(_ token: String, worker: Int, now: Double) -> Entry? {
        guard let entry = rows[worker][token], now < entry.validUntil else { return nil }
        return entry
    }

    func insert(_ token: String, caller: Int, claims: [String: String], leeway: Int, worker: Int, now: Double) {
        guard token.utf8.count <= Self.maxTokenBytes, let exp = claims["exp"].flatMap({ Double($0) }) else { return }
        let validUntil = min(exp + Double(leeway) - 1, now + Self.maxAge)
        guard validUntil > now else { return }
        rows.withValue(worker) { row in
            if row.count >= Self.capacity {
                row = row.filter { now < $0.value.validUntil }
                if row.count >= Self.capacity { row.removeAll(keepingCapacity: true) }
            }
            row[token] = Entry(caller: caller, claims: claims, validUntil: validUntil)
        }
    }
}
