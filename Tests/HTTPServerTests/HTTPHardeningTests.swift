import HTTPServer
import Testing

/// What a hostile client can do to one connection's state machine and decoder, without sockets: slow bodies,
/// unread responses, half requests that never end, versions and repeated fields the server must not guess at.
struct HTTPHardeningTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let get = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"

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

    @Test(arguments: ["HTTP/9.9", "HTTP/2.0", "HTTP/1.2", "HTTP/0.9"])
    func versionsOtherThanOnePointZeroAndOneAre505(_ version: String) {
        let core = HTTPConnectionCore(now: 0)
        #expect(core.received(Self.bytes("GET / \(version)\r\nHost: x\r\n\r\n"), now: 1) == [.reject(.versionNotSupported)])
        #expect(HTTPRequestError.versionNotSupported.status.code == 505)
        #expect(HTTPRequestError.versionNotSupported.code == "HTTPVersionNotSupported")
    }

    @Test(arguments: ["Authorization", "authorization", "Host", "Content-Type", "Origin", "X-Request-Id"])
    func aFieldThatMayAppearOnceIsRefusedWhenRepeated(_ name: String) {
        let core = HTTPConnectionCore(now: 0)
        let canonical = ["Authorization", "Host", "Content-Type", "Origin", "X-Request-Id"].first { $0.lowercased() == name.lowercased() }!
        let request = "POST /v1/presign HTTP/1.1\r\n\(canonical): a\r\n\(name): b\r\nContent-Length: 0\r\n\r\n"
        #expect(core.received(Self.bytes(request), now: 1) == [.reject(.malformed("more than one \(canonical) header"))])
    }

    /// Each write ends halfway through a request. Before compaction the decoder kept every byte ever sent.
    @Test func halfRequestsAtTheEndOfEveryWriteDoNotGrowTheBuffer() {
        let decoder = HTTPRequestDecoder()
        let request = Self.bytes("GET /abcdefghij HTTP/1.1\r\nHost: example\r\n\r\n")
        let half = request.count / 2
        var largest = 0
        decoder.feed(Array(request[..<half]))
        for _ in 0..<20_000 {
            decoder.feed(Array(request[half...]) + request + Array(request[..<half]))
            while let event = decoder.next() {
                if case .error(let error) = event { Issue.record("unexpected \(error)"); return }
            }
            largest = max(largest, decoder.bufferFootprint)
        }
        // 20,000 rounds sent about 1.7 MB; the buffer never holds more than a few requests' worth.
        #expect(largest <= 4 * request.count)
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
}
