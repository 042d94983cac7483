import XCTest
@testable import RedisClient

final class RedisScriptTests: XCTestCase {
    /// FIPS 180-2 and well-known vectors.
    /// EVALSHA names a script by its SHA-1 (swift-crypto's): the name of a known script, as Redis computes it.
    func testAScriptIsNamedByTheSHA1OfItsSource() {
        XCTAssertEqual(RedisScript("").sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(RedisScript("return 1").sha1, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
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
