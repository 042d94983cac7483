import Foundation
import XCTest
@testable import RedisClient
import UVLoop
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The client against a real redis-server (Debian's 7.0) on a real libuv loop: each test starts its own server and
/// fails if it cannot.
final class RedisLiveTests: XCTestCase {
    var server: RedisServerProcess!
    var loop: TestLoop!
    var errors: [String] = []
    var reconnects = 0

    override func tearDown() {
        server?.signal(SIGCONT)
        server?.stop()
        if let loop { XCTAssertTrue(loop.close(), "every handle closed") }
        super.tearDown()
    }

    /// Starts a server (with `arguments`) and a connection to `url`, and waits until it is up (or its handshake
    /// failed, when `waitForUp` is false).
    func connect(serverArguments: [String] = [], url: ((Int) -> String)? = nil, commandTimeout: Int = 500,
                 waitForUp: Bool = true) throws -> RedisConnection {
        server = RedisServerProcess(extraArguments: serverArguments)
        guard server.start() else {
            XCTFail("redis-server did not start on port \(server.port)")
            throw XCTSkip("unreachable")  // never reached as a skip: XCTFail above already failed the test
        }
        loop = TestLoop(index: 254)
        let text = url?(server.port) ?? "redis://127.0.0.1:\(server.port)"
        let settings = RedisSettings(url: try RedisURL(parsing: text), connectTimeoutMillis: 500,
                                     commandTimeoutMillis: commandTimeout)
        let hooks = RedisHooks(error: { [unowned self] in errors.append($0) }, reconnect: { [unowned self] in reconnects += 1 })
        let connection = RedisConnection(settings: settings, loop: loop.eventLoop, hooks: hooks)
        if waitForUp {
            XCTAssertTrue(loop.run(until: { connection.isConnected }), "connected: \(connection.core.lastFailure)")
        } else {
            XCTAssertTrue(loop.run(until: { connection.core.lastFailure != "connecting" }))
        }
        return connection
    }

    func send(_ connection: RedisConnection, _ arguments: [[UInt8]], line: UInt = #line) -> Result<RedisReply, RedisError>? {
        loop.wait(line: line) { connection.send(arguments, $0) }
    }

    func testSetAndGetRoundTripExactBytes() throws {
        let redis = try connect()
        let binary: [UInt8] = [0, 1, 2, 13, 10, 0xFF, 0x80, 36, 42] + Array(0...255)
        XCTAssertEqual(send(redis, [Array("SET".utf8), Array("bin".utf8), binary]), .success(.status("OK")))
        XCTAssertEqual(send(redis, command("GET", "bin")), .success(.string(binary)))
        XCTAssertEqual(send(redis, [Array("SET".utf8), [0, 0xFF], []]), .success(.status("OK")))
        XCTAssertEqual(send(redis, [Array("GET".utf8), [0, 0xFF]]), .success(.string([])))
        XCTAssertEqual(send(redis, command("GET", "missing")), .success(.null))
        XCTAssertEqual(send(redis, command("INCR", "n")), .success(.integer(1)))
        XCTAssertEqual(send(redis, command("INCRBY", "n", "41")), .success(.integer(42)))
        XCTAssertEqual(send(redis, command("INCR", "bin")), .success(.error("ERR value is not an integer or out of range")))
        XCTAssertEqual(send(redis, command("NOSUCHCOMMAND")),
                       .success(.error("ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ")))
        XCTAssertEqual(send(redis, command("RPUSH", "l", "a", "", "c")), .success(.integer(3)))
        XCTAssertEqual(send(redis, command("LRANGE", "l", "0", "-1")),
                       .success(.array([.string(Array("a".utf8)), .string([]), .string(Array("c".utf8))])))
        XCTAssertEqual(send(redis, []), .failure(.protocolError("empty command")))
    }

    func testPipelinedCommandsAnswerInOrder() throws {
        let redis = try connect()
        var answers: [Result<RedisReply, RedisError>] = []
        for index in 0..<500 { redis.send(command("INCR", "p")) { answers.append($0) ; _ = index } }
        XCTAssertTrue(loop.run(until: { answers.count == 500 }))
        XCTAssertEqual(answers, (1...500).map { .success(.integer(Int64($0))) })
    }

    /// A reply over a limit fails its command at the header that crosses it, and the connection is dropped (the
    /// rest of the reply is never read) and made again.
    func testRepliesOverTheLimitsFailAsTooLargeAndTheConnectionIsMadeAgain() throws {
        let redis = try connect()
        let limit = RedisReply.Limits.maxBulkBytes
        XCTAssertEqual(send(redis, [Array("SET".utf8), Array("big".utf8), [UInt8](repeating: 7, count: limit)]), .success(.status("OK")))
        XCTAssertEqual(send(redis, command("GET", "big")), .success(.string([UInt8](repeating: 7, count: limit))))
        XCTAssertEqual(send(redis, command("APPEND", "big", "x")), .success(.integer(Int64(limit + 1))))
        XCTAssertEqual(send(redis, command("GET", "big")), .failure(.tooLarge("a bulk string of 1048577 bytes (the limit is 1048576)")))
        XCTAssertTrue(loop.run(until: { redis.isConnected }, millis: 2000))
        let table = "local t = {} for i = 1, tonumber(ARGV[1]) do t[i] = i end return t"
        XCTAssertEqual(send(redis, command("EVAL", table, "0", "1024")), .success(.array((1...1024).map { .integer(Int64($0)) })))
        XCTAssertEqual(send(redis, command("EVAL", table, "0", "1025")),
                       .failure(.tooLarge("1025 array elements in one reply (the limit is 1024)")))
        XCTAssertTrue(loop.run(until: { redis.isConnected }, millis: 2000))
        XCTAssertEqual(send(redis, command("PING")), .success(.status("PONG")))
        XCTAssertEqual(errors, ["too_large", "disconnected", "too_large", "disconnected"])
        XCTAssertEqual(reconnects, 2)
    }

    /// Eight arrays deep is a reply; nine fail at the ninth header, and the connection comes back.
    func testTooDeeplyNestedRepliesFailAndTheConnectionRecovers() throws {
        let redis = try connect()
        let nest = "local t = {1} for i = 1, tonumber(ARGV[1]) do t = {t} end return t"
        var reply: RedisReply = .integer(1)
        for _ in 0..<8 { reply = .array([reply]) }
        XCTAssertEqual(send(redis, command("EVAL", nest, "0", "7")), .success(reply))
        XCTAssertEqual(send(redis, command("EVAL", nest, "0", "8")), .failure(.tooLarge("arrays nested deeper than 8")))
        XCTAssertTrue(loop.run(until: { redis.isConnected }, millis: 2000))
        XCTAssertEqual(send(redis, command("PING")), .success(.status("PONG")))
    }

    func testEvalScriptLoadsTheScriptOnNoscript() throws {
        let redis = try connect()
        let script = RedisScript("return {KEYS[1], ARGV[1]}")
        XCTAssertEqual(send(redis, command("SCRIPT", "FLUSH")), .success(.status("OK")))
        let answer = loop.wait { redis.evalScript(script, keys: [Array("k".utf8)], args: [[0, 1]], $0) }
        XCTAssertEqual(answer, .success(.array([.string(Array("k".utf8)), .string([0, 1])])))
        XCTAssertEqual(send(redis, command("SCRIPT", "EXISTS", script.sha1)), .success(.array([.integer(1)])))
        let again = loop.wait { redis.evalScript(script, keys: [Array("k".utf8)], args: [[2]], $0) }
        XCTAssertEqual(again, .success(.array([.string(Array("k".utf8)), .string([2])])))
        let broken = RedisScript("return (")
        let failed = loop.wait { redis.evalScript(broken, keys: [], args: [], $0) }
        guard case .success(.error(let message)) = failed else { return XCTFail("\(String(describing: failed))") }
        XCTAssertTrue(message.hasPrefix("ERR Error compiling script"), message)
    }

    func testGCRAPassesTheBurstThenRefusesForOneInterval() throws {
        let redis = try connect()
        XCTAssertEqual(send(redis, command("SCRIPT", "FLUSH")), .success(.status("OK")))
        XCTAssertEqual(send(redis, command("SCRIPT", "LOAD", GCRARateLimit.script.source)),
                       .success(.string(Array(GCRARateLimit.script.sha1.utf8))))
        XCTAssertEqual(send(redis, command("SCRIPT", "FLUSH")), .success(.status("OK")))
        var decisions: [GCRARateLimit.Decision] = []
        for _ in 0..<11 {
            guard case .success(let decision)? = loop.wait({ redis.rateLimit(key: Array("rl:user".utf8), perSecond: 1, burst: 10, $0) })
            else { return XCTFail("rate limit failed") }
            decisions.append(decision)
        }
        XCTAssertEqual(decisions.prefix(10).map(\.allowed), Array(repeating: true, count: 10))
        XCTAssertFalse(decisions[10].allowed)
        XCTAssertTrue((901...1000).contains(decisions[10].retryAfterMillis), "\(decisions[10].retryAfterMillis)")
        guard case .success(.integer(let ttl))? = send(redis, command("PTTL", "rl:user")) else { return XCTFail("PTTL") }
        XCTAssertTrue((9000...10000).contains(ttl), "\(ttl)")
        // Another key has its own bucket.
        let other = loop.wait { redis.rateLimit(key: Array("rl:other".utf8), perSecond: 1, burst: 10, $0) }
        XCTAssertEqual(other, .success(GCRARateLimit.Decision(admitted: 1, retryAfterMillis: 0)))
    }

    func testAuthAndSelectFromTheURL() throws {
        let redis = try connect(serverArguments: ["--requirepass", "s3cret"], url: { "redis://:s3cret@127.0.0.1:\($0)/3" })
        XCTAssertEqual(send(redis, command("SET", "k", "v")), .success(.status("OK")))
        guard case .success(.string(let info))? = send(redis, command("CLIENT", "INFO")) else { return XCTFail("CLIENT INFO") }
        XCTAssertTrue(String(decoding: info, as: UTF8.self).contains(" db=3 "))
    }

    func testAuthWithUserAndPassword() throws {
        let redis = try connect(serverArguments: ["--requirepass", "s3cret"], url: { "redis://default:s3cret@127.0.0.1:\($0)" })
        XCTAssertEqual(send(redis, command("PING")), .success(.status("PONG")))
    }

    func testAWrongPasswordSaysSo() throws {
        let redis = try connect(serverArguments: ["--requirepass", "s3cret"], url: { "redis://:wrong@127.0.0.1:\($0)" },
                                waitForUp: false)
        XCTAssertEqual(send(redis, command("PING")), .failure(.unavailable(
            "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.")))
        XCTAssertEqual(errors.first, "handshake_failed")
    }

    func testNoPasswordGetsTheServersNoauthReply() throws {
        let redis = try connect(serverArguments: ["--requirepass", "s3cret"])
        XCTAssertEqual(send(redis, command("GET", "k")), .success(.error("NOAUTH Authentication required.")))
    }

    func testAKilledServerFailsCommandsAndARestartedOneIsFoundAgain() throws {
        let redis = try connect()
        XCTAssertEqual(send(redis, command("SET", "k", "v")), .success(.status("OK")))
        server.stop()
        let failed = send(redis, command("GET", "k"))
        XCTAssertTrue(failed == .failure(.disconnected) || {
            if case .failure(.unavailable)? = failed { return true } else { return false }
        }(), "\(String(describing: failed))")
        XCTAssertTrue(loop.run(until: { !redis.isConnected }, millis: 1000))
        guard case .failure(.unavailable)? = send(redis, command("GET", "k")) else { return XCTFail("not unavailable") }
        XCTAssertTrue(server.start(), "restarted")
        let restarted = loop.now
        XCTAssertTrue(loop.run(until: { redis.isConnected }, millis: 2000), "recovered within 2 s")
        print("RedisLiveTests: recovered \(loop.now - restarted) ms after the restart")
        XCTAssertEqual(send(redis, command("GET", "k")), .success(.null))
        XCTAssertEqual(reconnects, 1)
    }

    func testAStoppedServerTimesOutACommandAndTheConnectionRecoversAfterContinue() throws {
        let redis = try connect(commandTimeout: 200)
        XCTAssertEqual(send(redis, command("PING")), .success(.status("PONG")))
        server.signal(SIGSTOP)
        let sent = loop.now
        var answer: Result<RedisReply, RedisError>?
        var answeredAt: UInt64 = 0
        var second: Result<RedisReply, RedisError>?
        redis.send(command("PING")) { answer = $0; answeredAt = self.loop.now }
        redis.send(command("PING")) { second = $0 }
        XCTAssertTrue(loop.run(until: { answer != nil && second != nil }))
        XCTAssertEqual(answer, .failure(.timeout))
        XCTAssertEqual(second, .failure(.timeout))
        print("RedisLiveTests: command timeout (200 ms) failed after \(answeredAt - sent) ms of loop time")
        XCTAssertEqual(errors.prefix(3), ["timeout", "timeout", "command_timeout"])
        server.signal(SIGCONT)
        var pong: Result<RedisReply, RedisError>?
        XCTAssertTrue(loop.run(until: {
            if redis.isConnected && pong == nil { redis.send(command("PING")) { pong = $0 } }
            if let answered = pong, answered != .success(.status("PONG")) { pong = nil }
            return pong == .success(.status("PONG"))
        }, millis: 5000), "recovered")
    }

    func testCloseFailsPendingCommandsAndLaterOnesAtOnce() throws {
        let redis = try connect()
        var pending: Result<RedisReply, RedisError>?
        redis.send(command("PING")) { pending = $0 }
        redis.close()
        XCTAssertEqual(pending, .failure(.disconnected))
        var later: Result<RedisReply, RedisError>?
        redis.send(command("PING")) { later = $0 }
        XCTAssertEqual(later, .failure(.unavailable("closed")))
    }

    /// Closing from inside a reply's callback (while the replies of that read are being handed out) and sending from
    /// inside one: the rest fail once with `.disconnected` in the order sent, nothing is answered twice.
    func testCloseAndSendFromInsideACallback() throws {
        let redis = try connect()
        var answers: [String] = []
        redis.send(command("PING")) { first in
            answers.append("1 \(first)")
            redis.send(command("PING")) { answers.append("3 \($0)") }
            redis.close()
        }
        redis.send(command("PING")) { answers.append("2 \($0)") }
        XCTAssertTrue(loop.run(until: { answers.count == 3 }))
        loop.sleep(millis: 50)
        XCTAssertEqual(answers, [
            "1 success(RedisClient.RedisReply.status(\"PONG\"))",
            "2 failure(RedisClient.RedisError.disconnected)",
            "3 failure(RedisClient.RedisError.disconnected)",
        ])
    }

    func testCommandsOverTheInFlightBoundFailAtOnce() throws {
        server = RedisServerProcess()
        guard server.start() else { return XCTFail("redis-server did not start") }
        loop = TestLoop(index: 254)
        let settings = RedisSettings(url: try RedisURL(parsing: "redis://127.0.0.1:\(server.port)"), maxInFlight: 2)
        let redis = RedisConnection(settings: settings, loop: loop.eventLoop)
        XCTAssertTrue(loop.run(until: { redis.isConnected }))
        var answers: [Result<RedisReply, RedisError>?] = [nil, nil, nil]
        for index in 0..<3 { redis.send(command("PING")) { answers[index] = $0 } }
        XCTAssertEqual(answers[2], .failure(.unavailable("more than 2 commands in flight")))
        XCTAssertTrue(loop.run(until: { answers[1] != nil }))
        XCTAssertEqual(answers, [.success(.status("PONG")), .success(.status("PONG")), .failure(.unavailable("more than 2 commands in flight"))])
    }

    func testAnUnreachableServerFailsFastAndKeepsTrying() throws {
        loop = TestLoop(index: 254)
        let port = RedisServerProcess.freePort()
        let redis = RedisConnection(settings: RedisSettings(url: try RedisURL(parsing: "redis://127.0.0.1:\(port)")),
                                    loop: loop.eventLoop, hooks: RedisHooks(error: { [unowned self] in errors.append($0) }))
        XCTAssertTrue(loop.run(until: { errors.count >= 3 }))
        XCTAssertEqual(Set(errors), ["connect_failed"])
        XCTAssertEqual(send(redis, command("PING")), .failure(.unavailable("connect failed: Connection refused")))
    }

    func testAHostNameIsResolvedWithoutBlocking() throws {
        let redis = try connect(url: { "redis://localhost:\($0)" })
        XCTAssertEqual(send(redis, command("PING")), .success(.status("PONG")))
    }
}
