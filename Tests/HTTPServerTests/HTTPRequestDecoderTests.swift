import HTTPServer
import Testing

/// What the decoder accepts and refuses: framing, smuggling attempts, versions, repeated fields and limits.
/// Most cases go through `HTTPConnectionCore`, the decoder's one user, so each asserts the action a connection
/// takes on them; the buffer test feeds the decoder directly.
struct HTTPRequestDecoderTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func chunkedBodyIsReassembled() {
        let core = HTTPConnectionCore(now: 0)
        var actions = core.received(Self.bytes("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"), now: 1)
        #expect(actions == [])
        actions = core.received(Self.bytes("lo\r\n6\r\n world\r\n0\r\n\r\n"), now: 2)
        #expect(actions == [.dispatch(.init(method: "POST", target: "/p"), body: Self.bytes("hello world"))])
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

    /// Found by review as an attacker: a chunked body's trailer leaking into the next request's headers
    /// (credentials for a request that sent none), and a CONNECT body read as a second request.
    @Test func aTrailerFieldNeverBecomesAHeaderOfTheNextRequest() {
        let core = HTTPConnectionCore(now: 0)
        let first = "GET /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nAuthorization: Bearer k1\r\n\r\n"
        let second = "POST /v1/presign HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}"
        #expect(core.received(Self.bytes(first + second), now: 1) == [.dispatch(.init(method: "GET", target: "/healthz"), body: [])])
        #expect(core.responded(keepAlive: true, now: 2) == [.dispatch(.init(method: "POST", target: "/v1/presign"), body: Self.bytes("{}"))])
        #expect(core.head?.headers.map(\.name) == ["Host", "Content-Length"])
        #expect(core.head?.header("Authorization") == nil)
    }

    @Test func aTrailerExpectDoesNotFailTheNextRequest() {
        let core = HTTPConnectionCore(now: 0)
        let first = "POST /a HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\nExpect: bogus\r\n\r\n"
        _ = core.received(Self.bytes(first + "GET /b HTTP/1.1\r\nHost: a\r\n\r\n"), now: 1)
        #expect(core.responded(keepAlive: true, now: 2) == [.dispatch(.init(method: "GET", target: "/b"), body: [])])
    }

    @Test func connectIsRefusedSoItsBodyIsNeverReadAsARequest() {
        let core = HTTPConnectionCore(now: 0)
        let request = "CONNECT /healthz HTTP/1.1\r\nHost: a\r\nContent-Length: 34\r\n\r\nGET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
        #expect(core.received(Self.bytes(request), now: 1) == [.reject(.malformed("CONNECT is not supported"))])
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

    /// An idle keep-alive connection holds no large buffer: after a 60,000-byte body or a 6,000-byte target the
    /// decoder kept them all (its read buffer, the body chunk, the target's scratch) until the connection closed.
    @Test(arguments: ["body", "target", "field"])
    func idleDecoderKeepsNoLargeStorage(_ big: String) {
        let request = switch big {
        case "body": "POST /upload HTTP/1.1\r\nContent-Length: 60000\r\n\r\n" + String(repeating: "b", count: 60_000)
        case "target": "GET /" + String(repeating: "t", count: 6_000) + " HTTP/1.1\r\n\r\n"
        default: "GET / HTTP/1.1\r\nX-Big: " + String(repeating: "v", count: 6_000) + "\r\n\r\n"
        }
        let decoder = HTTPRequestDecoder(limits: .init(maxHeaderBytes: 8192, maxBodyBytes: 1 << 20))
        var ended = false
        decoder.feed(Self.bytes(request))
        while let event = decoder.next() {
            if case .error(let error) = event { Issue.record("unexpected \(error)"); return }
            if case .end = event { ended = true }
        }
        #expect(ended)
        #expect(decoder.retainedBytes <= 4096)
        #expect(decoder.bufferFootprint == 0)
    }

    /// Small storage stays for the next request (no allocation per request for it), and a message with bytes
    /// pending behind it keeps them.
    @Test func smallStorageAndPendingBytesAreKept() {
        let decoder = HTTPRequestDecoder()
        decoder.feed(Self.bytes("GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"))
        var targets: [String] = []
        while let event = decoder.next() {
            if case .head(_, let target) = event { targets.append(target) }
            if case .end = event, targets.count == 1 { #expect(decoder.bufferedBytes == 19) }
        }
        #expect(targets == ["/a", "/b"])
        #expect(decoder.retainedBytes > 0)
    }
}
