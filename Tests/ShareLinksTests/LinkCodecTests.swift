import Foundation
import Testing
@testable import ShareLinks
import TestSupport

/// The one stored form of a link: a faithful round trip for any record, refusal of anything presignd could not have
/// written, and the formats of records written before the codec existed (`Fixtures/links-v1.sqlite` and the Redis
/// hashes below were written by presignd at 18d037f, through its HTTP API: see `LinkFormatTests`).
@Suite struct LinkCodecTests {
    typealias Value = LinkCodec.Value

    static func randomText(_ rng: inout SplitMix64) -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "ü", "€", "😀", "\u{0}", "\n", "\u{1F}", "{", "}", ":", ",", "%", "'"]
        return (0..<Int.random(in: 0...12, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }

    static func randomMap(_ rng: inout SplitMix64) -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<Int.random(in: 0...4, using: &rng) { map[randomText(&rng)] = randomText(&rng) }
        return map
    }

    static func randomRecord(_ rng: inout SplitMix64) -> LinkRecord {
        let created = Int64.random(in: 0...LinkRecord.latestTime, using: &rng)
        let maxUses: Int64? = Bool.random(using: &rng) ? Int64.random(in: 1...Int64.max, using: &rng) : nil
        return LinkRecord(
            digest: (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }, caller: randomText(&rng),
            subject: Bool.random(using: &rng) ? randomText(&rng) : nil, claims: randomMap(&rng), backend: randomText(&rng),
            bucket: randomText(&rng), key: randomText(&rng), response: randomMap(&rng), createdAt: created,
            expiresAt: Int64.random(in: created...LinkRecord.latestTime, using: &rng), maxUses: maxUses,
            uses: Int64.random(in: 0...Int64.max, using: &rng), revoked: Bool.random(using: &rng))
    }

    static func bytes(_ hash: [(name: String, value: String)]) -> [(name: [UInt8], value: [UInt8])] {
        hash.map { (Array($0.name.utf8), Array($0.value.utf8)) }
    }

    /// Seeded: any well-formed record comes back equal from its columns and from its hash, and the hash holds
    /// exactly the columns that are not absent, as decimal text.
    @Test func everyRecordRoundTripsThroughColumnsAndHash() {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("LinkCodecTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        for _ in 0..<2_000 {
            let record = Self.randomRecord(&rng)
            let fields = LinkCodec.fields(record)
            #expect(fields.count == 12)
            #expect(LinkCodec.record(record.digest, fields) == record, "seed \(seed)")
            let hash = LinkCodec.hash(record)
            #expect(hash.map(\.name) == zip(LinkCodec.Field.allCases, fields).compactMap { $1 == nil ? nil : $0.name }, "seed \(seed)")
            #expect(LinkCodec.record(record.digest, hash: Self.bytes(hash)) == record, "seed \(seed)")
            // Integers stored as text (Redis) read the same as integers (SQLite).
            let asText = fields.map { $0.map { Value.text($0.text) } }
            #expect(LinkCodec.record(record.digest, asText) == record, "seed \(seed)")
        }
    }

    static let digest = [UInt8](repeating: 9, count: 32)
    static let good: [Value?] = [
        .text("web"), nil, .text("{}"), .text("main"), .text("b"), .text("k"), .text("{}"), .integer(100), .integer(200),
        nil, .integer(0), .integer(0),
    ]

    static func with(_ field: LinkCodec.Field, _ value: Value?) -> [Value?] {
        var fields = good
        fields[field.rawValue] = value
        return fields
    }

    @Test func malformedColumnsAreNoRecord() {
        #expect(LinkCodec.record(Self.digest, Self.good)?.key == "k")
        let bad: [[Value?]] = [
            Self.with(.caller, nil), Self.with(.claims, nil), Self.with(.createdAt, nil), Self.with(.uses, nil), Self.with(.revoked, nil),
            Self.with(.caller, .integer(1)), Self.with(.key, .integer(1)), Self.with(.createdAt, .text("1e3")), Self.with(.uses, .text("")),
            Self.with(.revoked, .integer(2)), Self.with(.revoked, .text("true")), Self.with(.claims, .text("[]")),
            Self.with(.claims, .text(#"{"n":5}"#)), Self.with(.response, .text("{")), Self.with(.maxUses, .integer(0)),
            Self.with(.createdAt, .integer(-1)), Self.with(.expiresAt, .integer(99)), Self.with(.expiresAt, .integer(LinkRecord.latestTime + 1)),
            Self.with(.uses, .integer(-1)), Self.with(.createdAt, .text("-9223372036854775808")),
            Self.with(.key, .text(String(repeating: "k", count: LinkCodec.maxValueBytes + 1))),
            Self.with(.subject, .text(String(repeating: "s", count: LinkCodec.maxValueBytes + 1))),
            Array(Self.good.dropLast()), Self.good + [nil],
        ]
        for fields in bad { #expect(LinkCodec.record(Self.digest, fields) == nil, "\(fields.map { $0.map { String($0.text.prefix(20)) } })") }
        #expect(LinkCodec.record(Array(Self.digest.dropLast()), Self.good) == nil)
        // The bound itself is allowed.
        #expect(LinkCodec.record(Self.digest, Self.with(.key, .text(String(repeating: "k", count: LinkCodec.maxValueBytes))))?.key.utf8.count
            == LinkCodec.maxValueBytes)
    }

    @Test func malformedHashesAreNoRecord() throws {
        let good = LinkCodec.hash(try #require(LinkCodec.record(Self.digest, Self.good)))
        #expect(LinkCodec.record(Self.digest, hash: Self.bytes(good))?.bucket == "b")
        let bad: [[(name: String, value: String)]] = [
            good + [("extra", "1")], good + [("caller", "again")], Array(good.dropFirst()), good + [("subject", "a"), ("subject", "b")],
            good.map { $0.name == "key" ? ("key", String(repeating: "k", count: LinkCodec.maxValueBytes + 1)) : $0 },
            good.map { $0.name == "uses" ? ("uses", " 1") : $0 }, good.map { $0.name == "revoked" ? ("revoked", "01") : $0 },
            good.map { $0.name == "expires_at" ? ("expires_at", "+200") : $0 }, good.map { $0.name == "revoked" ? ("revoked", "-0") : $0 },
            good.map { $0.name == "created_at" ? ("Created_at", $0.value) : $0 },
        ]
        for pairs in bad { #expect(LinkCodec.record(Self.digest, hash: Self.bytes(pairs)) == nil, "\(pairs.map { ($0.name, $0.value.prefix(20)) })") }
    }

    /// Maps are JSON objects with sorted keys, as both stores have always written them.
    @Test func mapsAreWrittenAsSortedJSONObjects() {
        #expect(LinkCodec.encode([:]) == "{}")
        #expect(LinkCodec.encode(["b": "2", "a": "1\"\\ü"]) == #"{"a":"1\"\\ü","b":"2"}"#)
        #expect(LinkCodec.decode(#"{"a":"1\"\\ü","b":"2"}"#) == ["b": "2", "a": "1\"\\ü"])
        #expect(LinkCodec.decode("null") == nil)
    }
}
