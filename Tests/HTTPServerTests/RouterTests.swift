import HTTPServer
import Testing

/// Matching a method and path to a route: bound parameters, 404, 405 with its Allow list, and undecodable paths.
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
