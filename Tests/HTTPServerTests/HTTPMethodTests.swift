import HTTPServer
import Testing

/// The method is decoded once, by the decoder, into `HTTPMethod`: every token a request line can carry, exactly.
struct HTTPMethodTests {
    static func head(_ requestLine: String) -> Result<HTTPRequestHead, HTTPRequestError> {
        let decoder = HTTPRequestDecoder()
        decoder.feed(Array("\(requestLine)\r\nHost: x\r\nContent-Length: 0\r\n\r\n".utf8))
        switch decoder.next() {
        case .head?: return .success(decoder.currentHead!)
        case .error(let error)?: return .failure(error)
        case let other: Issue.record("unexpected \(String(describing: other))"); return .failure(.headerTooLarge)
        }
    }

    @Test(arguments: [
        ("GET", HTTPMethod.get), ("HEAD", .head), ("POST", .post), ("PUT", .put), ("DELETE", .delete),
        ("OPTIONS", .options), ("PATCH", .patch),
    ])
    func theSevenMethodsAreTheirCases(_ token: String, _ method: HTTPMethod) throws {
        let head = try Self.head("\(token) /a?b HTTP/1.1").get()
        #expect(head.method == method)
        #expect(head.method.name == token)
        #expect(head.target == "/a?b")
        #expect(HTTPMethod(token) == method)
    }

    /// Methods are case-sensitive (RFC 9110 9.1): `get` is not GET. A token http-parser knows (TRACE) and one it does
    /// not (QUERY) are both `.other` with their exact text, so the router can name them in a 405.
    @Test(arguments: ["QUERY", "TRACE", "PROPFIND", "get", "Get", "gET", "POSTX", "M-SEARCH", "X_1"])
    func anyOtherTokenIsOtherWithItsExactText(_ token: String) throws {
        let head = try Self.head("\(token) / HTTP/1.1").get()
        #expect(head.method == .other(token))
        #expect(head.method.name == token)
        #expect(HTTPMethod(token) == .other(token))
        #expect(head.method != .get)
    }

    @Test func connectIsRefused() {
        #expect(throws: HTTPRequestError.malformed("CONNECT is not supported")) {
            try Self.head("CONNECT a.example:443 HTTP/1.1").get()
        }
    }

    /// What is not a token never becomes a method: the request line is refused (400) as before.
    @Test(arguments: ["GE@T / HTTP/1.1", "G(T / HTTP/1.1", "/ HTTP/1.1"])
    func aNonTokenMethodIsA400(_ line: String) {
        guard case .failure(let error) = Self.head(line) else {
            Issue.record("\(line) was accepted")
            return
        }
        #expect(error.status.code == 400)
    }

    @Test func allowOrderListsEachMethodOnceThenOptions() {
        let methods = HTTPMethod.inAllowOrder([.delete, .post, .get, .post, .patch, .put, .head])
        #expect(methods == [.get, .head, .post, .put, .delete, .patch])
        #expect(HTTPMethod.allowHeader(methods) == "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS")
    }
}
