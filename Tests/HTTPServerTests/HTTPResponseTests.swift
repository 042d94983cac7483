import HTTPServer
import Testing

/// The bytes a response becomes on the wire, and the documented error body.
struct HTTPResponseTests {
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
