import Foundation
import RedisClient
import Testing
@testable import ShareLinks

/// Records written before `LinkCodec` existed still open, and the codec writes them again byte for byte. Both
/// fixtures were written by presignd at 18d037f through its HTTP API (one `serve` on SQLite, one on redis-server 7.0):
/// caller `keyed` (API key) made `plain` (max_uses 1) and `k/ü "q".txt` (max_uses 3, two response overrides, used
/// once); caller `web` (JWT, subject alice, a claim with a quote, a backslash and a non-ASCII letter) made
/// `users/alice/x.bin` (no limit), then revoked it.
@Suite struct LinkFormatTests {
    typealias T = SQLiteLinkStoreTests

    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/links-v1.sqlite").path

    static func digest(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            out.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return out
    }

    static let claims = ["aud": "cap", "exp": "1796673284", "iss": "https://iss.test", "n": "5", "sub": "alice", "team": "a\"b\\c ü"]
    static let overrides = ["content_disposition": "attachment; filename=\"a.txt\"", "content_type": "text/plain"]

    /// The three records of the SQLite fixture, as they were made (no use, not revoked).
    static let made = [
        LinkRecord(
            digest: digest("35BFDDB16623D4505817358F30F7A9B04E353FDE5BEE4592DD695F8E2CD622BF"), caller: "keyed", subject: nil, claims: [:],
            backend: "main", bucket: "b", key: "plain", response: [:], createdAt: 1_796_672_684, expiresAt: 1_796_672_744, maxUses: 1),
        LinkRecord(
            digest: digest("966BDC732341AE0BEC1F56D5B451A1442DABB59BA035798FD81518D009F36B99"), caller: "keyed", subject: nil, claims: [:],
            backend: "main", bucket: "b", key: "k/ü \"q\".txt", response: overrides, createdAt: 1_796_672_684, expiresAt: 1_796_759_084,
            maxUses: 3),
        LinkRecord(
            digest: digest("9D8AB4D9D69558989AFAC80068C228164E1EBEF6A633F0E7271C739A17832C82"), caller: "web", subject: "alice", claims: claims,
            backend: "main", bucket: "b", key: "users/alice/x.bin", response: [:], createdAt: 1_796_672_684, expiresAt: 1_796_676_284,
            maxUses: nil),
    ]

    /// Every row with every value as SQL writes it (`quote`: integers bare, text quoted, blobs as X'..', NULL), and
    /// the schema: equal dumps are equal files as far as any reader can tell.
    static func dump(_ path: String) throws -> [String] {
        let raw = try SQLiteDatabase(path: path, busyTimeoutMillis: 1000)
        let columns = ["digest"] + LinkCodec.Field.allCases.map(\.name)
        let rows = try raw.prepare("SELECT \(columns.map { "quote(\($0))" }.joined(separator: " || '|' || ")) FROM links ORDER BY digest")
        var out: [String] = []
        while try rows.step() { out.append(rows.text(0)) }
        let schema = try raw.prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY name")
        while try schema.step() { out.append(schema.text(0)) }
        out.append("user_version " + (try raw.text("PRAGMA user_version") ?? "?"))
        return out
    }

    @Test func aSQLiteFileWrittenBeforeTheCodecOpensAndIsWrittenAgainByteForByte() throws {
        let old = T.tempPath()
        try FileManager.default.copyItem(atPath: Self.fixture, toPath: old)
        let store = SQLiteLinkStore(settings: .init(path: old))
        var expected = Self.made
        expected[1].uses = 1
        expected[2].revoked = true
        for record in expected {
            #expect(try T.now { store.fetch(record.digest, worker: 0, loop: nil, $0) }.get() == record)
        }
        // The same links made, used and revoked again by this presignd: the same bytes.
        let new = T.tempPath()
        let again = SQLiteLinkStore(settings: .init(path: new))
        for record in Self.made { #expect(try T.now { again.create(record, maxLive: 1000, worker: 0, loop: nil, $0) }.get() == .created) }
        #expect(try T.now { again.use(Self.made[1].digest, now: 1_796_672_684, worker: 0, loop: nil, $0) }.get() == .used(1))
        #expect(try T.now { again.revoke(Self.made[2].digest, worker: 0, loop: nil, $0) }.get() == true)
        let dumped = try Self.dump(old)
        #expect(dumped.count == 3 + 4 + 1)  // rows; the table and its three indexes; user_version
        #expect(try Self.dump(new) == dumped)
    }

    /// HGETALL of the three links as presignd at 18d037f left them in redis-server 7.0. The first was never touched
    /// after its create, so its order is the create's HSET order.
    static let hashes: [(digest: String, fields: [String])] = [
        ("ddd289430ccdce856da51ef08180b01d589a792ff77fa1692ceed3429c895431",
         ["caller", "keyed", "claims", "{}", "backend", "main", "bucket", "b", "key", "plain", "response", "{}", "created_at", "1796672685",
          "expires_at", "1796672745", "max_uses", "1", "uses", "0", "revoked", "0"]),
        ("c830abc301c188e873a2e341a25fe3de6e07c07d6981375013643427e863f27f",
         ["revoked", "0", "uses", "1", "created_at", "1796672685", "claims", "{}", "key", "k/ü \"q\".txt", "response",
          #"{"content_disposition":"attachment; filename=\"a.txt\"","content_type":"text/plain"}"#, "max_uses", "3", "expires_at",
          "1796759085", "bucket", "b", "backend", "main", "caller", "keyed"]),
        ("5968f64fa62ddf9d004021d378da800a98130695bdb32bb003dd995e84050a1e",
         ["revoked", "1", "uses", "0", "subject", "alice", "created_at", "1796672685", "claims",
          #"{"aud":"cap","exp":"1796673285","iss":"https://iss.test","n":"5","sub":"alice","team":"a\"b\\c ü"}"#, "key",
          "users/alice/x.bin", "response", "{}", "expires_at", "1796676285", "bucket", "b", "backend", "main", "caller", "web"]),
    ]

    @Test func redisHashesWrittenBeforeTheCodecReadAndAreWrittenAgainByteForByte() throws {
        var claims = Self.claims
        claims["exp"] = "1796673285"
        let expected: [(key: String, response: [String: String], claims: [String: String], subject: String?, maxUses: Int64?, uses: Int64, revoked: Bool)] = [
            ("plain", [:], [:], nil, 1, 0, false), ("k/ü \"q\".txt", Self.overrides, [:], nil, 3, 1, false),
            ("users/alice/x.bin", [:], claims, "alice", nil, 0, true),
        ]
        for ((hex, fields), want) in zip(Self.hashes, expected) {
            let pairs = stride(from: 0, to: fields.count, by: 2).map { (name: Array(fields[$0].utf8), value: Array(fields[$0 + 1].utf8)) }
            let items = fields.map { RedisReply.string(Array($0.utf8)) }
            let record = try #require(LinkCodec.record(Self.digest(hex), hash: pairs))
            #expect(RedisLinkStore.record(Self.digest(hex), items) == record)
            #expect(record.key == want.key && record.response == want.response && record.claims == want.claims)
            #expect(record.subject == want.subject && record.maxUses == want.maxUses && record.uses == want.uses && record.revoked == want.revoked)
            #expect(record.caller == (want.subject == nil ? "keyed" : "web") && record.backend == "main" && record.bucket == "b")
            let written = LinkCodec.hash(record)
            #expect(Dictionary(uniqueKeysWithValues: written.map { ($0.name, $0.value) })
                == Dictionary(uniqueKeysWithValues: stride(from: 0, to: fields.count, by: 2).map { (fields[$0], fields[$0 + 1]) }))
            #expect(RedisLinkStore.key(record.digest) == Array(("presignd:link:" + hex).utf8))
        }
        // The untouched hash: the create writes the same fields in the same order.
        let first = try #require(LinkCodec.record(Self.digest(Self.hashes[0].digest), hash: stride(from: 0, to: 22, by: 2).map {
            (name: Array(Self.hashes[0].fields[$0].utf8), value: Array(Self.hashes[0].fields[$0 + 1].utf8))
        }))
        #expect(LinkCodec.hash(first).flatMap { [$0.name, $0.value] } == Self.hashes[0].fields)
    }
}
