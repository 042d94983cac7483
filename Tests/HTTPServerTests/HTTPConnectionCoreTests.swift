import HTTPServer
import Testing

/// Drives the connection state machine with bytes and a fake millisecond clock: no sockets.
/// What the decoder itself refuses is in HTTPRequestDecoderTests; this suite is about the connection's life:
/// dispatch order, keep-alive, timeouts, drain, back-pressure and streamed bodies, including what a hostile
/// client can do to them (slow bodies, unread responses, floods of pipelined requests).
struct HTTPConnectionCoreTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let get = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"

    @Test func pipelinedRequestsAreDispatchedOneAtATimeInOrder() {
        let core = HTTPConnectionCore(now: 0)
        let actions = core.received(
            Self.bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n"),
            now: 1)
        #expect(actions == [.dispatch(.init(method: "GET", target: "/a"), body: [])])
        #expect(core.responded(keepAlive: true, now: 2) == [.dispatch(.init(method: "GET", target: "/b"), body: [])])
        #expect(core.responded(keepAlive: true, now: 3) == [.dispatch(.init(method: "GET", target: "/c"), body: [])])
        #expect(core.responded(keepAlive: true, now: 4) == [])
    }

    @Test(arguments: [
        "POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        "POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
    ])
    func requestAfterABodyIsParsedCleanly(_ first: String) {
        let core = HTTPConnectionCore(now: 0)
        let actions = core.received(Array((first + "GET /next HTTP/1.1\r\n\r\n").utf8), now: 0)
        #expect(actions == [.dispatch(.init(method: "POST", target: "/p"), body: Array("hello".utf8))])
        #expect(core.responded(keepAlive: true, now: 1) == [.dispatch(.init(method: "GET", target: "/next"), body: [])])
    }

    /// 10,000 requests in one read: each `responded` returns the next dispatch, and none is lost or reordered.
    @Test func tenThousandPipelinedRequestsInOneReadAreAllDispatchedInOrder() {
        let core = HTTPConnectionCore(limits: .init(maxHeaderBytes: 16 * 1024, maxBodyBytes: 1 << 20), now: 0)
        let input = (0..<10_000).map { "GET /r\($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined()
        var targets: [String] = []
        var pending = core.received(Self.bytes(input), now: 1)
        while let action = pending.first {
            pending.removeFirst()
            switch action {
            case .dispatch(let summary, _):
                targets.append(summary.target)
                pending += core.responded(keepAlive: true, now: 2)
            case .pauseReading, .resumeReading:
                continue
            default:
                Issue.record("unexpected \(action)")
                return
            }
        }
        #expect(targets == (0..<10_000).map { "/r\($0)" })
    }

    @Test func expectContinueIsAnsweredBeforeTheBody() {
        let core = HTTPConnectionCore(now: 0)
        let head = "PUT /u HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        #expect(core.received(Self.bytes(head), now: 1) == [.sendContinue])
        #expect(core.received(Self.bytes("abc"), now: 2) == [.dispatch(.init(method: "PUT", target: "/u"), body: Self.bytes("abc"))])
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() {
        let plain = HTTPConnectionCore(now: 0)
        _ = plain.received(Self.bytes("GET / HTTP/1.0\r\n\r\n"), now: 0)
        #expect(plain.keepAlive == false)
        let asked = HTTPConnectionCore(now: 0)
        _ = asked.received(Self.bytes("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"), now: 0)
        #expect(asked.keepAlive == true)
        let closing = HTTPConnectionCore(now: 0)
        _ = closing.received(Self.bytes("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), now: 0)
        #expect(closing.keepAlive == false)
        #expect(closing.responded(keepAlive: false, now: 1) == [.close])
    }

    @Test func timeoutsFollowTheFakeClock() {
        let timeouts = HTTPConnectionCore.Timeouts(headerMillis: 100, idleMillis: 1000, bodyMillis: 300)
        // Partial head: 408 after the header timeout.
        let slowHead = HTTPConnectionCore(timeouts: timeouts, now: 0)
        #expect(slowHead.received(Self.bytes("GET / HT"), now: 10) == [])
        #expect(slowHead.tick(now: 99) == [])
        #expect(slowHead.tick(now: 100) == [.reject(.headerTimeout)])
        // Idle keep-alive: silent close after the idle timeout.
        let idle = HTTPConnectionCore(timeouts: timeouts, now: 0)
        _ = idle.received(Self.bytes("GET / HTTP/1.1\r\n\r\n"), now: 5)
        _ = idle.responded(keepAlive: true, now: 10)
        #expect(idle.tick(now: 1009) == [])
        #expect(idle.tick(now: 1010) == [.close])
        // A buffered body must arrive whole within the body timeout of its head: progress does not extend it.
        let stalled = HTTPConnectionCore(timeouts: timeouts, now: 0)
        _ = stalled.received(Self.bytes("PUT / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"), now: 50)
        _ = stalled.received(Self.bytes("de"), now: 200)
        #expect(stalled.tick(now: 349) == [])
        #expect(stalled.tick(now: 350) == [.reject(.bodyTimeout)])
    }

    @Test func aBufferedBodyTricklingOneByteAtATimeTimesOutFromItsHead() {
        let core = HTTPConnectionCore(timeouts: .init(headerMillis: 100, idleMillis: 1000, bodyMillis: 300), now: 0)
        _ = core.received(Self.bytes("PUT / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n"), now: 0)
        var now: UInt64 = 0
        var answer: [HTTPConnectionCore.Action] = []
        while answer.isEmpty && now < 10_000 {
            now += 10
            _ = core.received(Self.bytes("x"), now: now)
            answer = core.tick(now: now)
        }
        #expect(answer == [.reject(.bodyTimeout)])
        #expect(now == 300)
    }

    @Test func aStreamedBodyBelowTheMinimumRateTimesOutAndOneAboveItDoesNot() {
        func core() -> HTTPConnectionCore {
            HTTPConnectionCore(
                timeouts: .init(headerMillis: 100, idleMillis: 1000, bodyMillis: 1000, minBodyBytesPerSecond: 100),
                now: 0, streaming: { _, _ in true }, streamingBodyLimit: 1 << 30)
        }
        let head = Self.bytes("PUT /up HTTP/1.1\r\nContent-Length: 1000000\r\n\r\n")
        // 10 bytes every 200 ms is 50 bytes/s: under 100 bytes/s, refused at the end of the first window.
        let slow = core()
        _ = slow.received(head, now: 0)
        for step in 1...4 { _ = slow.received(Array(repeating: 0x61, count: 10), now: UInt64(step * 200)) }
        #expect(slow.tick(now: 999) == [])
        #expect(slow.tick(now: 1000) == [.reject(.bodyTimeout)])
        // 30 bytes every 200 ms is 150 bytes/s: window after window passes, for as long as it keeps up.
        let steady = core()
        _ = steady.received(head, now: 0)
        var now: UInt64 = 0
        for _ in 0..<50 {
            now += 200
            _ = steady.received(Array(repeating: 0x61, count: 30), now: now)
            #expect(steady.tick(now: now) == [])
        }
    }

    @Test func anUnreadOutputQueueHoldsBackTheNextPipelinedRequestUntilItDrains() {
        let core = HTTPConnectionCore(timeouts: .init(headerMillis: 100, idleMillis: 1000, bodyMillis: 300, sendMillis: 500), now: 0)
        #expect(core.received(Self.bytes(Self.get + Self.get + "GET /c HTTP/1.1\r\n\r\n"), now: 1)
                == [.dispatch(.init(method: "GET", target: "/a"), body: [])])
        #expect(core.setOutputBlocked(true, now: 2) == [])
        #expect(core.responded(keepAlive: true, now: 2) == [])
        // More pipelined bytes are buffered, not started, and reading pauses past the buffer bound.
        let flood = Array(repeating: Self.get, count: 3000).joined()
        #expect(core.received(Self.bytes(flood), now: 3) == [.pauseReading])
        #expect(core.setOutputBlocked(false, now: 4) == [.resumeReading, .dispatch(.init(method: "GET", target: "/a"), body: [])])
        #expect(core.responded(keepAlive: true, now: 5) == [.dispatch(.init(method: "GET", target: "/c"), body: [])])
    }

    @Test func aClientThatNeverReadsIsClosedAfterTheSendTimeout() {
        let core = HTTPConnectionCore(timeouts: .init(headerMillis: 100, idleMillis: 1000, bodyMillis: 300, sendMillis: 500), now: 0)
        _ = core.received(Self.bytes(Self.get + Self.get), now: 0)
        _ = core.setOutputBlocked(true, now: 10)
        _ = core.responded(keepAlive: true, now: 10)
        #expect(core.tick(now: 509) == [])
        #expect(core.tick(now: 510) == [.close])
    }

    @Test func drainClosesIdleConnectionsAndBusyOnesAfterTheirResponse() {
        let idle = HTTPConnectionCore(now: 0)
        #expect(idle.drain() == [.close])
        let busy = HTTPConnectionCore(now: 0)
        _ = busy.received(Self.bytes("GET / HTTP/1.1\r\n\r\n"), now: 0)
        #expect(busy.drain() == [])
        #expect(busy.keepAlive == false)
        #expect(busy.responded(keepAlive: true, now: 1) == [.close])
    }

    /// Streamed request bodies (the admin proxy's uploads), driven without sockets.
    struct StreamedBodyTests {
        static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

        static func core(limit: Int64 = 10) -> HTTPConnectionCore {
            HTTPConnectionCore(
                limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 4), timeouts: .init(headerMillis: 100, idleMillis: 100, bodyMillis: 50),
                now: 0, streaming: { method, path in method == "PUT" && path.hasPrefix("/up") }, streamingBodyLimit: limit)
        }

        @Test func headThenChunksThenEndAndTheConnectionIsReusable() {
            let core = Self.core()
            #expect(core.received(Self.bytes("PUT /up/x HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"), now: 1)
                    == [.dispatchStreaming(.init(method: "PUT", target: "/up/x")), .bodyChunk(Self.bytes("abc"))])
            #expect(core.received(Self.bytes("defghi"), now: 2) == [.bodyChunk(Self.bytes("defghi")), .bodyEnd])
            #expect(core.responded(keepAlive: true, now: 3) == [])
            #expect(core.received(Self.bytes("GET /a HTTP/1.1\r\n\r\n"), now: 4) == [.dispatch(.init(method: "GET", target: "/a"), body: [])])
        }

        @Test func streamedRoutesHaveTheirOwnLimitAndOthersKeepTheirs() {
            // 9 bytes is over max_body_bytes (4) but within the streaming limit (10); 11 is over both.
            #expect(Self.core().received(Self.bytes("PUT /up/x HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), now: 1) == [.reject(.bodyTooLarge)])
            #expect(Self.core().received(Self.bytes("PUT /other HTTP/1.1\r\nContent-Length: 9\r\n\r\n"), now: 1) == [.reject(.bodyTooLarge)])
            let chunked = Self.core()
            _ = chunked.received(Self.bytes("PUT /up/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n"), now: 1)
            #expect(chunked.received(Self.bytes("8\r\n12345678\r\n"), now: 2) == [.reject(.bodyTooLarge)])
        }

        @Test func answeringBeforeTheBodyEndsClosesTheConnection() {
            let core = Self.core()
            _ = core.received(Self.bytes("PUT /up/x HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"), now: 1)
            #expect(core.responded(keepAlive: true, now: 2) == [.close])
            #expect(core.received(Self.bytes("def"), now: 3) == [])
        }

        @Test func aPausedBodyDoesNotTimeOutButAStalledOneDoes() {
            let core = Self.core()
            _ = core.received(Self.bytes("PUT /up/x HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc"), now: 1)
            core.setBodyPaused(true, now: 2)
            #expect(core.tick(now: 500) == [])
            core.setBodyPaused(false, now: 500)
            #expect(core.tick(now: 520) == [])
            #expect(core.tick(now: 551) == [.reject(.bodyTimeout)])
        }
    }
}
