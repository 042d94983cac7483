import Foundation
import XCTest
@testable import RedisClient
import TestSupport

/// The client against a Redis that lies (`FakeRedisServer`): after answering the AUTH the connection sends first,
/// it answers `GET hostile` with a reply over the limits, or garbage. The command fails with the exact error as soon
/// as the header that crosses a limit is read (the command timeout is 10 s and nothing waits for it), the fake sees
/// the client close, and a new connection (with its own AUTH) answers again.
final class RedisHostileServerTests: XCTestCase {
    var fake: FakeRedisServer!
    var loop: TestLoop!
    var errors: [String] = []

    override func tearDown() {
        if let loop { XCTAssertTrue(loop.close(), "every handle closed") }
        fake?.stop()
        super.tearDown()
    }

    static let ok = FakeRedisServer.Answer.bytes(Array("+OK\r\n".utf8))
    static let pong = FakeRedisServer.Answer.bytes(Array("+PONG\r\n".utf8))

    /// A connection to a fake that answers AUTH with +OK (or `auth(connection)`), PING with +PONG and GET with
    /// `hostile`; up when this returns.
    func connect(_ hostile: FakeRedisServer.Answer, auth: (@Sendable (Int) -> FakeRedisServer.Answer)? = nil,
                 ping: FakeRedisServer.Answer = pong, waitForUp: Bool = true) throws -> RedisConnection {
        fake = FakeRedisServer { connection, command in
            switch command.first {
            case "AUTH": auth?(connection) ?? Self.ok
            case "GET": hostile
            default: ping
            }
        }
        loop = TestLoop(index: 254)
        let settings = RedisSettings(url: try RedisURL(parsing: "redis://:s3cret@127.0.0.1:\(fake.port)"),
                                     connectTimeoutMillis: 1000, commandTimeoutMillis: 10_000)
        let hooks = RedisHooks(error: { [unowned self] in errors.append($0) })
        let redis = RedisConnection(settings: settings, loop: loop.eventLoop, hooks: hooks)
        if waitForUp { XCTAssertTrue(loop.run(until: { redis.isConnected }), redis.core.lastFailure) }
        return redis
    }

    func send(_ redis: RedisConnection, _ words: String..., line: UInt = #line) -> Result<RedisReply, RedisError>? {
        loop.wait(line: line) { redis.send(words.map { Array($0.utf8) }, $0) }
    }

    /// GET fails with `error`; the fake saw the client close and a second connection; PING answers on it.
    func expectDroppedAndMadeAgain(_ redis: RedisConnection, error: RedisError, line: UInt = #line) {
        XCTAssertEqual(send(redis, "GET", "hostile", line: line), .failure(error), line: line)
        XCTAssertTrue(loop.run(until: { self.fake.seen.first?.closedByClient == true }), "the fake saw the close", line: line)
        XCTAssertTrue(loop.run(until: { redis.isConnected && self.fake.seen.count == 2 }), "made again", line: line)
        XCTAssertEqual(send(redis, "PING", line: line), .success(.status("PONG")), line: line)
        XCTAssertEqual(fake.seen.map(\.commands), [[["AUTH", "s3cret"], ["GET", "hostile"]], [["AUTH", "s3cret"], ["PING"]]],
                       line: line)
        XCTAssertEqual(errors, [error.kind, "disconnected"], line: line)
    }

    func testAGigabyteBulkHeaderFailsAtTheHeaderWhileTheBytesTrickle() throws {
        let trickle = FakeRedisServer.Answer.trickle(header: Array("$1073741824\r\n".utf8),
                                                     unit: [UInt8](repeating: 120, count: 1024), intervalMillis: 10)
        let redis = try connect(trickle)
        expectDroppedAndMadeAgain(redis, error: .tooLarge("a bulk string of 1073741824 bytes (the limit is 1048576)"))
        let units = fake.seen[0].unitsBeforeClose ?? -1
        print("RedisHostileServerTests: 1 GiB bulk header: \(units) KiB trickled before the client closed")
        XCTAssertTrue((0..<1000).contains(units), "\(units)")
    }

    func testAHundredMillionElementHeaderFailsAtTheHeaderWhileElementsTrickle() throws {
        let trickle = FakeRedisServer.Answer.trickle(header: Array("*100000000\r\n".utf8), unit: Array(":1\r\n".utf8),
                                                     intervalMillis: 5)
        let redis = try connect(trickle)
        expectDroppedAndMadeAgain(redis, error: .tooLarge("100000000 array elements in one reply (the limit is 1024)"))
        let units = fake.seen[0].unitsBeforeClose ?? -1
        print("RedisHostileServerTests: *100000000: \(units) elements trickled before the client closed")
        XCTAssertTrue((0..<1000).contains(units), "\(units)")
    }

    func testDeepNestingFailsAtTheNinthArrayHeader() throws {
        let trickle = FakeRedisServer.Answer.trickle(header: Array("*1\r\n".utf8), unit: Array("*1\r\n".utf8), intervalMillis: 10)
        let redis = try connect(trickle)
        expectDroppedAndMadeAgain(redis, error: .tooLarge("arrays nested deeper than 8"))
        let units = fake.seen[0].unitsBeforeClose ?? -1
        print("RedisHostileServerTests: nesting: \(units + 1) array headers sent before the client closed")
        XCTAssertTrue((8..<1000).contains(units), "\(units)")  // the ninth header is the eighth unit
    }

    func testGarbageIsAProtocolError() throws {
        let redis = try connect(.bytes(Array("!garbage\r\n".utf8)))
        expectDroppedAndMadeAgain(redis, error: .protocolError("byte 0x21 where a reply's type was expected"))
    }

    func testAnOverlongErrorLineFailsBeforeItsEnd() throws {
        let trickle = FakeRedisServer.Answer.trickle(header: Array("-ERR ".utf8), unit: [UInt8](repeating: 97, count: 4096),
                                                     intervalMillis: 1)
        let redis = try connect(trickle)
        expectDroppedAndMadeAgain(redis, error: .tooLarge("a line over 65536 bytes"))
        XCTAssertTrue((16..<1000).contains(fake.seen[0].unitsBeforeClose ?? -1))
    }

    /// A reply nobody asked for (a second PONG) drops the connection: the replies after it could not be matched.
    func testAReplyToNoCommandDropsTheConnection() throws {
        let redis = try connect(Self.pong, ping: .bytes(Array("+PONG\r\n+PONG\r\n".utf8)))
        XCTAssertEqual(send(redis, "PING"), .success(.status("PONG")))
        XCTAssertTrue(loop.run(until: { self.fake.seen.first?.closedByClient == true }), "the fake saw the close")
        XCTAssertTrue(loop.run(until: { redis.isConnected && self.fake.seen.count == 2 }), "made again")
        XCTAssertEqual(errors, ["disconnected"])
    }

    /// Over the limits while answering AUTH: the handshake fails with the exact error, and the next attempt is clean.
    func testAHostileHandshakeReplyFailsTheHandshake() throws {
        let hostile = FakeRedisServer.Answer.trickle(header: Array("$1073741824\r\n".utf8), unit: [120], intervalMillis: 10)
        let redis = try connect(Self.pong, auth: { $0 == 0 ? hostile : Self.ok }, waitForUp: false)
        XCTAssertTrue(loop.run(until: { self.errors.contains("handshake_failed") }))
        XCTAssertEqual(redis.core.lastFailure, #"AUTH failed: tooLarge("a bulk string of 1073741824 bytes (the limit is 1048576)")"#)
        XCTAssertTrue(loop.run(until: { redis.isConnected }, millis: 2000))
        XCTAssertEqual(send(redis, "PING"), .success(.status("PONG")))
        XCTAssertEqual(errors, ["handshake_failed"])
    }
}
