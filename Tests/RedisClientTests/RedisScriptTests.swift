import XCTest
@testable import RedisClient

final class RedisScriptTests: XCTestCase {
    /// FIPS 180-2 and well-known vectors.
    func testSHA1MatchesKnownVectors() {
        XCTAssertEqual(SHA1.hex([]), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(SHA1.hex(Array("abc".utf8)), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(SHA1.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(SHA1.hex(Array("The quick brown fox jumps over the lazy dog".utf8)),
                       "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12")
        XCTAssertEqual(SHA1.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        // 55, 56 and 64 bytes: the padding's edge cases.
        XCTAssertEqual(SHA1.hex([UInt8](repeating: 0x61, count: 55)), "c1c8bbdc22796e28c0e15163d20899b65621d65a")
        XCTAssertEqual(SHA1.hex([UInt8](repeating: 0x61, count: 56)), "c2db330f6083854c99d4b5bfb6e8f29f201be699")
        XCTAssertEqual(SHA1.hex([UInt8](repeating: 0x61, count: 64)), "0098ba824b5c16427bd7a1122a5a442a25ec644d")
    }

    func testGCRAArgumentsAreTheEmissionIntervalAndBurst() {
        let (keys, args) = GCRARateLimit.arguments(key: Array("rl:k".utf8), perSecond: 1, burst: 10)
        XCTAssertEqual(keys, [Array("rl:k".utf8)])
        XCTAssertEqual(args, [Array("1000000".utf8), Array("10".utf8), Array("1".utf8)])
        XCTAssertEqual(GCRARateLimit.arguments(key: [], perSecond: 1, burst: 10, cost: 7).args[2], Array("7".utf8))
        XCTAssertEqual(GCRARateLimit.arguments(key: [], perSecond: 3, burst: 1).args[0], Array("333333".utf8))
        XCTAssertEqual(GCRARateLimit.arguments(key: [], perSecond: 1e9, burst: 1).args[0], Array("1".utf8))
    }

    func testGCRARepliesAreReadStrictly() {
        XCTAssertEqual(GCRARateLimit.decision(from: .array([.integer(1), .integer(0)])).success,
                       GCRARateLimit.Decision(admitted: 1, retryAfterMillis: 0))
        XCTAssertEqual(GCRARateLimit.decision(from: .array([.integer(0), .integer(999)])).success,
                       GCRARateLimit.Decision(admitted: 0, retryAfterMillis: 999))
        XCTAssertEqual(GCRARateLimit.decision(from: .array([.integer(2), .integer(0)])).failure,
                       .protocolError("rate limit script answered array([RedisClient.RedisReply.integer(2), RedisClient.RedisReply.integer(0)])"))
        // A batch may get part of what it asked for, never more.
        XCTAssertEqual(GCRARateLimit.decision(from: .array([.integer(2), .integer(40)]), cost: 3).success,
                       GCRARateLimit.Decision(admitted: 2, retryAfterMillis: 40))
        XCTAssertNotNil(GCRARateLimit.decision(from: .array([.integer(4), .integer(0)]), cost: 3).failure)
        XCTAssertNotNil(GCRARateLimit.decision(from: .array([.integer(-1), .integer(0)]), cost: 3).failure)
        XCTAssertEqual(GCRARateLimit.decision(from: .error("ERR x")).failure, .protocolError("rate limit script failed: ERR x"))
    }
}
