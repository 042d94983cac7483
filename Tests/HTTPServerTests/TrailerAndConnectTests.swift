import HTTPServer
import Testing

/// Found by review as an attacker: a chunked body's trailer leaking into the next request's headers (credentials
/// for a request that sent none), and a CONNECT body read as a second request.
struct TrailerAndConnectTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

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
}
