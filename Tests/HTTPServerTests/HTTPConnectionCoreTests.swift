import HTTPServer
import Testing

/// Drives the connection state machine with bytes and a fake millisecond clock: no sockets.
struct HTTPConnectionCoreTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

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

    @Test func chunkedBodyIsReassembled() {
        let core = HTTPConnectionCore(now: 0)
        var actions = core.received(Self.bytes("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"), now: 1)
        #expect(actions == [])
        actions = core.received(Self.bytes("lo\r\n6\r\n world\r\n0\r\n\r\n"), now: 2)
        #expect(actions == [.dispatch(.init(method: "POST", target: "/p"), body: Self.bytes("hello world"))])
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

    @Test(arguments: [
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", HTTPRequestError.smuggling("both Transfer-Encoding and Content-Length")),
        ("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", .smuggling("conflicting Content-Length values")),
        ("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", .smuggling("Transfer-Encoding other than chunked")),
        ("GET / HTTP/1.1\r\nX-A: 1\r\n folded\r\n\r\n", .smuggling("obsolete line folding in a header")),
        ("GET / HTTP/1.1\r\nX-A: a\u{0}b\r\n\r\n", .malformed("NUL byte in header block")),
        ("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", .malformed("bare CR in header block")),
    ])
    func smugglingAttemptsAreRejected(_ input: String, _ expected: HTTPRequestError) {
        let core = HTTPConnectionCore(now: 0)
        #expect(core.received(Self.bytes(input), now: 1) == [.reject(expected)])
        #expect(expected.status.code == 400)
    }

    @Test func garbageIsA400() {
        let core = HTTPConnectionCore(now: 0)
        let actions = core.received(Self.bytes("HELLO THERE\r\n\r\n"), now: 1)
        guard case .reject(let error) = actions.first else {
            Issue.record("expected a rejection, got \(actions)")
            return
        }
        #expect(error.status.code == 400)
    }

    @Test func oversizedHeaderBlockIs431() {
        let core = HTTPConnectionCore(limits: .init(maxHeaderBytes: 64, maxBodyBytes: 10), now: 0)
        let actions = core.received(Self.bytes("GET / HTTP/1.1\r\nX-Long: \(String(repeating: "a", count: 100))"), now: 1)
        #expect(actions == [.reject(.headerTooLarge)])
        #expect(HTTPRequestError.headerTooLarge.status.code == 431)
    }

    @Test func oversizedBodyIs413ByContentLengthAndByChunks() {
        let declared = HTTPConnectionCore(limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 10), now: 0)
        #expect(declared.received(Self.bytes("PUT / HTTP/1.1\r\nContent-Length: 11\r\n\r\n"), now: 1) == [.reject(.bodyTooLarge)])
        let chunked = HTTPConnectionCore(limits: .init(maxHeaderBytes: 1024, maxBodyBytes: 10), now: 0)
        let actions = chunked.received(Self.bytes("PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n"), now: 1)
        #expect(actions == [.reject(.bodyTooLarge)])
        #expect(HTTPRequestError.bodyTooLarge.status.code == 413)
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

    @Test func drainClosesIdleConnectionsAndBusyOnesAfterTheirResponse() {
        let idle = HTTPConnectionCore(now: 0)
        #expect(idle.drain() == [.close])
        let busy = HTTPConnectionCore(now: 0)
        _ = busy.received(Self.bytes("GET / HTTP/1.1\r\n\r\n"), now: 0)
        #expect(busy.drain() == [])
        #expect(busy.keepAlive == false)
        #expect(busy.responded(keepAlive: true, now: 1) == [.close])
    }
}

struct RouterTests {
    @Test func parametersAndRemainderAreBoundAndDecoded() {
        var router = Router()
        router.add("GET", "/admin/v1/buckets/{bucket}/objects/{key...}") { _, _ in nil }
        router.add("GET", "/healthz") { _, _ in nil }
        guard case .found(_, let params) = router.match(method: "GET", path: "/admin/v1/buckets/b1/objects/a/b%20c/d") else {
            Issue.record("no match")
            return
        }
        #expect(params == ["bucket": "b1", "key": "a/b c/d"])
        if case .methodNotAllowed(let allowed) = router.match(method: "POST", path: "/healthz") {
            #expect(allowed == ["GET", "HEAD"])  // GET routes answer HEAD too
        } else {
            Issue.record("expected 405")
        }
        if case .notFound = router.match(method: "GET", path: "/healthz/") {} else { Issue.record("expected 404") }
        if case .badPath = router.match(method: "GET", path: "/admin/v1/buckets/b1/objects/%zz") {} else {
            Issue.record("expected bad path")
        }
    }
}

struct ResponseWriterTests {
    @Test func responseIsSerializedExactly() {
        let bytes = HTTPResponseWriter.serialize(
            .json(.ok, Array(#"{"a":1}"#.utf8)), keepAlive: true, http10: false, requestId: "r1",
            dateLine: Array("Date: X\r\n".utf8), headRequest: false)
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nDate: X\r\nContent-Type: application/json\r\nContent-Length: 7\r\nX-Request-Id: r1\r\n\r\n{\"a\":1}")
        let head = HTTPResponseWriter.serialize(
            .json(.ok, Array("{}".utf8)), keepAlive: false, http10: false, requestId: "r2", dateLine: [],
            headRequest: true)
        #expect(
            String(decoding: head, as: UTF8.self)
                == "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nX-Request-Id: r2\r\nConnection: close\r\n\r\n")
    }

    @Test func errorBodyIsTheDocumentedJSONShape() {
        let response = HTTPResponse.error(.badRequest, code: "Bad\"Thing", message: "line\nbreak")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":{"code":"Bad\"Thing","message":"line\nbreak"}}"#)
    }
}

struct PipelinedBodyTests {
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
