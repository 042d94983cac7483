@testable import HTTPServer
import Testing

/// Matching a method and path to a route: bound parameters, 404, 405 with its Allow list, and undecodable paths.
struct RouterTests {
    @Test func parametersAndRemainderAreBoundAndDecoded() {
        let router = Router([
            Endpoint(.get, "/admin/v1/buckets/{bucket}/objects/{key...}", access: .anonymous) { _, _ in nil },
            Endpoint(.get, "/healthz", access: .anonymous) { _, _ in nil },
        ])
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

/// Differential: matching through the first-segment index finds what a scan of every route in order finds, for
/// seeded random route tables and paths (literals, parameters, remainders, the root, HEAD, percent-escapes).
@Test func theIndexedMatchAgreesWithAScanOfEveryRoute() {
    var state = UInt64.random(in: 0...UInt64.max)
    let seed = state
    func next(_ bound: Int) -> Int {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Int((state >> 33) % UInt64(bound))
    }
    let words = ["a", "b", "v1", "l", "%41", "x y"]
    func segment() -> String {
        switch next(6) {
        case 0: return "{p\(next(3))}"
        case 1: return "{rest...}"
        default: return words[next(words.count)]
        }
    }
    for _ in 0..<200 {
        var table = RouteTable<Int>()
        var patterns: [(HTTPMethod, String)] = []
        for index in 0..<(1 + next(12)) {
            var parts: [String] = []
            for _ in 0..<next(4) { parts.append(segment()) }
            if let remainder = parts.firstIndex(where: { $0.hasSuffix("...}") }) { parts = Array(parts[...remainder]) }
            let pattern = "/" + parts.joined(separator: "/")
            let method: HTTPMethod = ["GET", "POST", "HEAD", "DELETE"][next(4)]
            table.add(method, PathPattern(pattern), index)
            patterns.append((method, pattern))
        }
        for _ in 0..<50 {
            var parts: [String] = []
            for _ in 0..<next(5) { parts.append(next(5) == 0 ? "" : words[next(words.count)]) }
            let path = "/" + parts.joined(separator: "/")
            let method: HTTPMethod = ["GET", "POST", "HEAD", "PUT"][next(4)]
            // The reference: every route, in order, as the router did before it had an index.
            let split = Array(Substring(path).split(separator: "/", omittingEmptySubsequences: false).dropFirst())
            var expected = "notFound"
            var allowed: [HTTPMethod] = []
            for route in table.routes {
                guard let params = route.path.bind(split) else { continue }
                if route.method == method || (method == .head && route.method == .get && !table.routes.contains {
                    $0.method == .head && $0.segments == route.segments
                }) {
                    expected = params == nil ? "badPath" : "found \(route.handler) \(params!.sorted { $0.key < $1.key })"
                    break
                }
                if !allowed.contains(route.method) { allowed.append(route.method) }
                if route.method == .get && !allowed.contains(.head) { allowed.append(.head) }
            }
            if expected == "notFound" && !allowed.isEmpty { expected = "405 \(allowed)" }
            let got: String
            switch table.match(method: method, path: Substring(path)) {
            case .found(let route, let params): got = "found \(route.handler) \(params.sorted { $0.key < $1.key })"
            case .methodNotAllowed(let methods): got = "405 \(methods)"
            case .notFound: got = "notFound"
            case .badPath: got = "badPath"
            }
            #expect(got == expected, "seed \(seed): \(method) \(path) in \(patterns)")
        }
    }
}

/// Literal segments match bytes, never canonical equivalence: the Kelvin sign (U+212A) is canonically `K`, and Swift's
/// `==` would match it (sorting each run of combining marks first, at a cost that grows with the square of the run).
@Test func aLiteralSegmentMatchesItsBytesOnly() {
    let pattern = PathPattern("/v1/K/{id}")
    #expect(pattern.bind(["v1", "K", "x"]) != nil)
    #expect(pattern.bind(["v1", "\u{212A}", "x"]) == nil)
    let accented = PathPattern("/caf\u{e9}")
    #expect(accented.bind(["caf\u{e9}"]) != nil)
    #expect(accented.bind(["cafe\u{301}"]) == nil)
}

/// Every status presignd sends of its own has its standard reason phrase (a link's redirect is `302 Found`, not
/// the fallback `Status 302`); a status passed through from a backend that the table lacks gets the fallback.
@Test func theStatusesPresignSendsHaveTheirReasonPhrases() {
    let expected: [Int: String] = [
        200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently", 302: "Found",
        304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
        405: "Method Not Allowed", 409: "Conflict", 413: "Content Too Large", 429: "Too Many Requests", 503: "Service Unavailable",
    ]
    for (code, reason) in expected { #expect(HTTPStatus(code: code).reason == reason) }
    #expect(HTTPStatus(code: 418).reason == "Status 418")
}
