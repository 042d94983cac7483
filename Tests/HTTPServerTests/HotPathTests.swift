@testable import HTTPServer
import Testing

/// The request path's allocation-free spellings agree with the plain ones they replace (seeded, differential), and
/// the reuse of buffers across requests never lets one request see another's bytes.
struct HotPathTests {
    /// A linear congruential generator: the seed is printed with any failure.
    struct Seeded {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    @Test func pathSegmentsAreTheSplitAfterTheFirstSlash() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = Seeded(state: seed)
        let pieces = ["/", "/", "a", "bc", "%2F", "?", "\u{e9}", "\u{301}", ""]
        for _ in 0..<2000 {
            var path = ""
            for _ in 0..<random.next(8) { path += pieces[random.next(pieces.count)] }
            // The reference: what the router split before (`[""]`, the root, has no segment).
            var expected = Substring(path).utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
                .dropFirst().map { String(decoding: Array($0), as: UTF8.self) }
            if expected == [""] { expected = [] }
            var segments = PathSegments(Substring(path))
            var got: [String] = []
            while let segment = segments.next() { got.append(String(segment)) }
            #expect(got == expected, "seed \(seed): \(path.debugDescription)")
            var rest = PathSegments(Substring(path))
            _ = rest.next()
            #expect(String(rest.takeRest()) == expected.dropFirst().joined(separator: "/"), "seed \(seed): \(path)")
        }
    }

    @Test func decimalsAndRequestIdsAreSpelledAsStringSpellsThem() {
        let seed = UInt64.random(in: 0...UInt64.max)
        var random = Seeded(state: seed)
        var values: [UInt64] = [0, 1, 9, 10, 15, 16, 99, 100, 255, 256, UInt64(Int.max), UInt64.max]
        for _ in 0..<1000 { values.append(UInt64(random.next(Int.max)) >> UInt64(random.next(63))) }
        for value in values {
            if value <= UInt64(Int.max) {
                var out: [UInt8] = [0x41]
                HTTPResponseWriter.appendDecimal(Int(value), to: &out)
                #expect(out == [0x41] + Array(String(value).utf8), "seed \(seed)")
            }
            let id = Worker.requestId(prefix: Array("9f3a-2-".utf8), counter: value)
            #expect(id == "9f3a-2-" + String(value, radix: 16), "seed \(seed)")
        }
        var negative: [UInt8] = []
        HTTPResponseWriter.appendDecimal(-12, to: &negative)
        #expect(negative == Array("-12".utf8))
    }

    /// Serializing appends: a reused buffer (emptied, capacity kept) gives the bytes a new array gives.
    @Test func serializingIntoAReusedBufferGivesTheSameBytes() {
        let big = HTTPResponse(
            status: .notFound, headers: [("Content-Type", "application/json"), ("X-Long", String(repeating: "v", count: 300))],
            body: Array(repeating: 0x7A, count: 900))
        let small = HTTPResponse.json(.ok, Array("{}".utf8))
        var reused: [UInt8] = []
        for (response, http10, head) in [(big, false, false), (small, true, false), (big, false, true), (small, false, false)] {
            reused.removeAll(keepingCapacity: true)
            HTTPResponseWriter.serialize(
                response, keepAlive: !head, http10: http10, requestId: "r", dateLine: Array("Date: X\r\n".utf8),
                headRequest: head, into: &reused)
            let fresh = HTTPResponseWriter.serialize(
                response, keepAlive: !head, http10: http10, requestId: "r", dateLine: Array("Date: X\r\n".utf8),
                headRequest: head)
            #expect(reused == fresh)
        }
    }

    /// The decoder reuses its header list once the last head lets it go: a head a handler still holds keeps its
    /// own fields, and a request refused after it is still logged under the last head's method and path.
    @Test func aHeldHeadKeepsItsHeadersWhenTheNextIsDecoded() {
        let core = HTTPConnectionCore(now: 0)
        let first = core.received(
            Array("GET /a HTTP/1.1\r\nHost: one\r\nX-Request-Id: first\r\n\r\nPOST /b HTTP/1.1\r\nHost: two\r\nContent-Length: 0\r\n\r\nGET /c HTTP/1.1\r\nHost: c\r\nHost: d\r\n\r\n".utf8),
            now: 1)
        #expect(first == [.dispatch(.init(method: "GET", target: "/a"), body: [])])
        let held = core.head!
        let second = core.responded(keepAlive: true, now: 2)
        #expect(second == [.dispatch(.init(method: "POST", target: "/b"), body: [])])
        #expect(held.headers.map { "\($0.name): \($0.value)" } == ["Host: one", "X-Request-Id: first"])
        #expect(held.header(.xRequestId) == "first" && held.header(.host) == "one")
        #expect(core.head!.headers.map { "\($0.name): \($0.value)" } == ["Host: two", "Content-Length: 0"])
        #expect(core.head!.header(.xRequestId) == nil && core.head!.header(.host) == "two")
        let third = core.responded(keepAlive: true, now: 3)
        #expect(third == [.reject(.malformed("more than one Host header"))])
        #expect(core.head?.method == "POST" && core.head?.target == "/b")
        #expect(held.header(.host) == "one")
    }
}
