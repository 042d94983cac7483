@testable import RedisClient
import Testing
import TestSupport

/// Seeded: random reply trees within the limits, encoded, run together and cut into random chunks, parse back equal.
/// A failing seed is printed by the expectation and can be replayed alone.
struct RESPParserPropertyTests {
    /// A random reply of at most `budget` elements (all arrays together) and `depth` more array levels.
    static func reply(_ rng: inout SplitMix64, depth: Int, budget: inout Int) -> RedisReply {
        switch rng.next() % 7 {
        case 0:
            let length = Int(rng.next() % 4 == 0 ? rng.next() % 3000 : rng.next() % 20)
            return .string((0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
        case 1:
            let pick = rng.next() % 4
            return .integer(pick == 0 ? .min : pick == 1 ? .max : Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64))
        case 2:
            return .null
        case 3, 4:
            let length = Int(rng.next() % 40)
            // Status and error text: any byte but CR and LF.
            let text = String(decoding: (0..<length).map { _ in UInt8(32 + rng.next() % 95) }, as: UTF8.self)
            return rng.next() % 2 == 0 ? .status(text) : .error(text)
        default:
            guard depth > 0, budget > 0 else { return .integer(0) }
            let count = Int(rng.next() % UInt64(min(budget, 12) + 1))
            budget -= count
            return .array((0..<count).map { _ in reply(&rng, depth: depth - 1, budget: &budget) })
        }
    }

    @Test func randomRepliesInRandomChunksParseBackEqual() {
        for seed in UInt64(1)...300 { randomRepliesInRandomChunks(seed: seed) }
    }

    func randomRepliesInRandomChunks(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let replies = (0..<(1 + rng.next() % 12)).map { _ -> RedisReply in
            var budget = RedisReply.Limits.maxElements
            return Self.reply(&rng, depth: RedisReply.Limits.maxDepth, budget: &budget)
        }
        let input = replies.flatMap(encodeRESP)
        var parser = RESPParser()
        var parsed: [RedisReply] = []
        var offset = 0
        while offset < input.count {
            let size = rng.next() % 3 == 0 ? 1 : Int(1 + rng.next() % UInt64(min(input.count, 4096)))
            let end = min(input.count, offset + size)
            let (more, failure) = parser.parse(Array(input[offset..<end]))
            #expect(failure == nil, "seed \(seed)")
            if failure != nil { return }
            parsed += more
            offset = end
        }
        #expect(parsed == replies, "seed \(seed)")
        #expect(!parser.isInsideReply, "seed \(seed)")
    }

    /// The same trees with one limit lowered below what they hold: the parser fails exactly when a whole-input parse
    /// with the default limits shows the tree is over it, whatever the chunking.
    @Test func aLoweredElementLimitFailsTheSameWayInEveryChunking() {
        for seed in UInt64(1)...100 { loweredElementLimit(seed: seed) }
    }

    func loweredElementLimit(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        var budget = RedisReply.Limits.maxElements
        let tree = Self.reply(&rng, depth: 8, budget: &budget)
        let input = encodeRESP(tree)
        let limits = RESPParser.Limits(maxElements: 10)
        var whole = RESPParser(limits: limits)
        let expected = whole.parse(input)
        var chunked = RESPParser(limits: limits)
        var got: (replies: [RedisReply], failure: RESPParser.Failure?) = ([], nil)
        for byte in input where got.failure == nil {
            let (more, failure) = chunked.parse([byte])
            got.replies += more
            got.failure = failure
        }
        #expect(got.replies == expected.replies && got.failure == expected.failure, "seed \(seed)")
        #expect((Self.elements(tree) > 10) == (expected.failure != nil), "seed \(seed)")
    }

    static func elements(_ reply: RedisReply) -> Int {
        guard case .array(let items) = reply else { return 0 }
        return items.count + items.map(elements).reduce(0, +)
    }
}
