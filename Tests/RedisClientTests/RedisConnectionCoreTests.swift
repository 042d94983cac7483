import XCTest
@testable import RedisClient
import UVLoop
import TestSupport

/// Always 0: the backoff jitter then picks the lowest wait, base - base/2.
struct ZeroRandom: RandomNumberGenerator {
    mutating func next() -> UInt64 { 0 }
}

final class RedisConnectionCoreTests: XCTestCase {
    typealias Core = RedisConnectionCore<ZeroRandom>
    static let ping: [[UInt8]] = [Array("PING".utf8)]
    static let pong = RedisReply.status("PONG")
    static let auth: [[UInt8]] = [Array("AUTH".utf8), Array("pw".utf8)]
    static let hs = Core.handshakeIDBase

    static func core(maxInFlight: Int = 3, handshake: [[[UInt8]]] = []) -> Core {
        Core(configuration: .init(connectTimeoutMillis: 1000, commandTimeoutMillis: 500, maxInFlight: maxInFlight,
                                  backoff: Backoff(initialMillis: 50, capMillis: 2000), handshake: handshake), random: ZeroRandom())
    }

    /// A core connected (generation 1) at time 0.
    static func connected(maxInFlight: Int = 3) -> Core {
        var core = core(maxInFlight: maxInFlight)
        XCTAssertEqual(core.handle(.start, now: 0), [.connect(generation: 1)])
        XCTAssertEqual(core.handle(.connected(generation: 1), now: 0), [])
        XCTAssertEqual(core.phase, .connected(generation: 1))
        return core
    }

    func testConnectTimeoutBacksOffAndThenConnectsAgain() {
        var core = Self.core()
        XCTAssertEqual(core.handle(.start, now: 0), [.connect(generation: 1)])
        XCTAssertEqual(core.nextDeadline, 1000)
        XCTAssertEqual(core.handle(.tick, now: 999), [])
        XCTAssertEqual(core.handle(.tick, now: 1000), [.report("connect_timeout"), .disconnect])
        XCTAssertEqual(core.phase, .backoff(until: 1025))
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 1001),
                       [.complete(id: 1, .failure(.unavailable("connect timed out after 1000 ms")))])
        XCTAssertEqual(core.handle(.tick, now: 1024), [])
        XCTAssertEqual(core.handle(.tick, now: 1025), [.connect(generation: 2)])
        // The first context's late connect is ignored; the second's counts.
        XCTAssertEqual(core.handle(.connected(generation: 1), now: 1030), [])
        XCTAssertEqual(core.phase, .connecting(generation: 2, deadline: 2025))
        XCTAssertEqual(core.handle(.connected(generation: 2), now: 1030), [])
        XCTAssertEqual(core.phase, .connected(generation: 2))
        XCTAssertEqual(core.attempts, 0)
    }

    func testCommandTimeoutFailsThatCommandOnceAndDropsTheConnection() {
        var core = Self.connected()
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 0), [.write(id: 1, arguments: Self.ping)])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.ping), now: 10), [.write(id: 2, arguments: Self.ping)])
        XCTAssertEqual(core.nextDeadline, 500)
        XCTAssertEqual(core.handle(.tick, now: 499), [])
        XCTAssertEqual(core.handle(.tick, now: 500), [
            .complete(id: 1, .failure(.timeout)), .report("command_timeout"), .disconnect,
            .complete(id: 2, .failure(.disconnected)),
        ])
        XCTAssertEqual(core.phase, .backoff(until: 525))
        // Losses reported for a dropped socket, and a late reply, are ignored: each caller was answered once.
        XCTAssertEqual(core.handle(.lost(id: 1, .disconnected), now: 500), [])
        XCTAssertEqual(core.handle(.replied(id: 2, .success(Self.pong)), now: 501), [])
        XCTAssertEqual(core.handle(.disconnected(generation: 1, reason: "closed"), now: 501), [])
        XCTAssertEqual(core.handle(.tick, now: 525), [.connect(generation: 2)])
    }

    func testAReplyBeforeTheDeadlineCompletesAndClearsTheDeadline() {
        var core = Self.connected()
        _ = core.handle(.submit(id: 7, arguments: Self.ping), now: 0)
        XCTAssertEqual(core.handle(.replied(id: 7, .success(Self.pong)), now: 499), [.complete(id: 7, .success(Self.pong))])
        XCTAssertNil(core.nextDeadline)
        XCTAssertEqual(core.handle(.tick, now: 600), [])
        XCTAssertEqual(core.handle(.replied(id: 7, .success(Self.pong)), now: 601), [])
        XCTAssertEqual(core.phase, .connected(generation: 1))
    }

    func testCommandsFailAtOnceWhileNotConnected() {
        var core = Self.core()
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 0),
                       [.complete(id: 1, .failure(.unavailable("connecting")))])
        _ = core.handle(.start, now: 0)
        XCTAssertEqual(core.handle(.connectFailed(generation: 1, reason: "Connection refused"), now: 3),
                       [.report("connect_failed")])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.ping), now: 4),
                       [.complete(id: 2, .failure(.unavailable("connect failed: Connection refused")))])
        XCTAssertEqual(core.handle(.submit(id: 3, arguments: []), now: 4),
                       [.complete(id: 3, .failure(.protocolError("empty command")))])
    }

    func testCommandsSentWhileConnectingWaitForTheConnectionInOrder() {
        var core = Self.core(maxInFlight: 3)
        _ = core.handle(.start, now: 0)
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 10), [])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.auth), now: 20), [])
        XCTAssertEqual(core.nextDeadline, 510, "the first waiting command's deadline comes before the connect's")
        XCTAssertEqual(core.handle(.connected(generation: 1), now: 30), [
            .write(id: 1, arguments: Self.ping), .write(id: 2, arguments: Self.auth),
        ])
        // Each keeps the deadline it got when it was sent.
        XCTAssertEqual(core.nextDeadline, 510)
        XCTAssertEqual(core.handle(.tick, now: 510), [
            .complete(id: 1, .failure(.timeout)), .report("command_timeout"), .disconnect, .complete(id: 2, .failure(.disconnected)),
        ])
    }

    func testAWaitingCommandTimesOutAloneAndAFailedConnectFailsTheRest() {
        var core = Self.core(maxInFlight: 2)
        _ = core.handle(.start, now: 0)
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 0), [])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.ping), now: 300), [])
        // The bound counts waiting commands.
        XCTAssertEqual(core.handle(.submit(id: 3, arguments: Self.ping), now: 301),
                       [.complete(id: 3, .failure(.unavailable("more than 2 commands in flight")))])
        XCTAssertEqual(core.handle(.tick, now: 500), [.complete(id: 1, .failure(.timeout))])
        XCTAssertEqual(core.phase, .connecting(generation: 1, deadline: 1000), "the attempt goes on")
        XCTAssertEqual(core.handle(.connectFailed(generation: 1, reason: "Connection refused"), now: 600),
                       [.report("connect_failed"), .complete(id: 2, .failure(.unavailable("connect failed: Connection refused")))])
        // During the backoff, commands fail at once: nothing waits for a connection that is not being made.
        XCTAssertEqual(core.handle(.submit(id: 4, arguments: Self.ping), now: 601),
                       [.complete(id: 4, .failure(.unavailable("connect failed: Connection refused")))])
    }

    func testAConnectTimeoutFailsTheWaitingCommands() {
        var core = Self.core()
        _ = core.handle(.start, now: 0)
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 600), [])
        XCTAssertEqual(core.handle(.tick, now: 1000), [
            .report("connect_timeout"), .disconnect, .complete(id: 1, .failure(.unavailable("connect timed out after 1000 ms"))),
        ])
    }

    func testBackoffDoublesUpToTheCap() {
        var core = Self.core()
        _ = core.handle(.start, now: 0)
        var now: UInt64 = 0
        var waits: [UInt64] = []
        for generation in 1...9 as ClosedRange<UInt64> {
            _ = core.handle(.connectFailed(generation: generation, reason: "refused"), now: now)
            guard case .backoff(let until) = core.phase else { return XCTFail("\(core.phase)") }
            waits.append(until - now)
            now = until
            XCTAssertEqual(core.handle(.tick, now: now), [.connect(generation: generation + 1)])
        }
        XCTAssertEqual(waits, [25, 50, 100, 200, 400, 800, 1000, 1000, 1000])
        // A connection that comes up resets it.
        _ = core.handle(.connected(generation: 10), now: now)
        _ = core.handle(.disconnected(generation: 10, reason: "EOF"), now: now)
        XCTAssertEqual(core.phase, .backoff(until: now + 25))
    }

    func testInFlightCommandsAreBounded() {
        var core = Self.connected(maxInFlight: 2)
        _ = core.handle(.submit(id: 1, arguments: Self.ping), now: 0)
        _ = core.handle(.submit(id: 2, arguments: Self.ping), now: 0)
        XCTAssertEqual(core.handle(.submit(id: 3, arguments: Self.ping), now: 0),
                       [.complete(id: 3, .failure(.unavailable("more than 2 commands in flight")))])
        XCTAssertEqual(core.handle(.replied(id: 1, .success(Self.pong)), now: 1), [.complete(id: 1, .success(Self.pong))])
        XCTAssertEqual(core.handle(.submit(id: 4, arguments: Self.ping), now: 1), [.write(id: 4, arguments: Self.ping)])
    }

    func testHandshakeRunsBeforeCommandsAndAFailedAuthSaysWhy() {
        var core = Self.core(handshake: [Self.auth])
        _ = core.handle(.start, now: 0)
        XCTAssertEqual(core.handle(.connected(generation: 1), now: 1), [.write(id: Self.hs, arguments: Self.auth)])
        // A command sent during the handshake waits for it, and fails with the handshake's reason.
        XCTAssertEqual(core.handle(.submit(id: 1, arguments: Self.ping), now: 2), [])
        XCTAssertEqual(core.handle(.replied(id: Self.hs, .success(.error("WRONGPASS invalid"))), now: 3),
                       [.report("handshake_failed"), .disconnect, .complete(id: 1, .failure(.unavailable("AUTH failed: WRONGPASS invalid")))])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.ping), now: 4),
                       [.complete(id: 2, .failure(.unavailable("AUTH failed: WRONGPASS invalid")))])
        // Next attempt: AUTH passes, the connection takes commands; it was never up before, so no `reconnected`.
        XCTAssertEqual(core.handle(.tick, now: 28), [.connect(generation: 2)])
        XCTAssertEqual(core.handle(.connected(generation: 2), now: 29), [.write(id: Self.hs + 1, arguments: Self.auth)])
        XCTAssertEqual(core.handle(.replied(id: Self.hs + 1, .success(.status("OK"))), now: 30), [])
        XCTAssertEqual(core.phase, .connected(generation: 2))
    }

    func testAHandshakeCommandThatTimesOutDropsTheConnection() {
        var core = Self.core(handshake: [Self.auth])
        _ = core.handle(.start, now: 0)
        _ = core.handle(.connected(generation: 1), now: 0)
        XCTAssertEqual(core.handle(.tick, now: 500), [.report("command_timeout"), .disconnect])
        XCTAssertEqual(core.phase, .backoff(until: 525))
    }

    func testALostConnectionFailsPendingCommandsAndReconnects() {
        var core = Self.connected()
        _ = core.handle(.submit(id: 1, arguments: Self.ping), now: 0)
        _ = core.handle(.submit(id: 2, arguments: Self.ping), now: 0)
        // A dropped socket: its commands lost, then the disconnect.
        XCTAssertEqual(core.handle(.lost(id: 1, .protocolError("bad")), now: 1), [.complete(id: 1, .failure(.protocolError("bad")))])
        XCTAssertEqual(core.handle(.disconnected(generation: 1, reason: "Server closed the connection"), now: 1),
                       [.report("disconnected"), .complete(id: 2, .failure(.disconnected))])
        XCTAssertEqual(core.handle(.submit(id: 3, arguments: Self.ping), now: 2),
                       [.complete(id: 3, .failure(.unavailable("connection lost: Server closed the connection")))])
        XCTAssertEqual(core.handle(.tick, now: 26), [.connect(generation: 2)])
        XCTAssertEqual(core.handle(.connected(generation: 2), now: 27), [.reconnected])
    }

    func testCloseFailsPendingCommandsAndRefusesNewOnes() {
        var core = Self.connected()
        _ = core.handle(.submit(id: 1, arguments: Self.ping), now: 0)
        XCTAssertEqual(core.handle(.close, now: 1), [.disconnect, .complete(id: 1, .failure(.disconnected))])
        XCTAssertEqual(core.handle(.submit(id: 2, arguments: Self.ping), now: 2),
                       [.complete(id: 2, .failure(.unavailable("closed")))])
        XCTAssertEqual(core.handle(.tick, now: 5000), [])
        XCTAssertNil(core.nextDeadline)
        XCTAssertEqual(core.handle(.close, now: 5001), [])
    }

    func testManyAnsweredCommandsKeepTheDeadlineQueueSmall() {
        var core = Self.connected(maxInFlight: 10)
        for id in 1...5000 as ClosedRange<UInt64> {
            _ = core.handle(.submit(id: id, arguments: Self.ping), now: id / 10)
            if id > 3 { _ = core.handle(.replied(id: id - 3, .success(Self.pong)), now: id / 10) }
        }
        XCTAssertEqual(core.pending.count, 3)
        XCTAssertEqual(core.nextDeadline, 4998 / 10 + 500)
    }
}
