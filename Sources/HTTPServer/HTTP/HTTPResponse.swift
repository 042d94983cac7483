import JSONKit

/// A complete response. Content-Length, Date, Connection and X-Request-Id are added when it is written.
public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// For a HEAD answer: the length the GET would have had (a proxied object's size), instead of the body's.
    public var headContentLength: Int64?

    public init(status: HTTPStatus = .ok, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `{"error":{"code":…,"message":…}}` with the given status.
    public static func error(_ status: HTTPStatus, code: String, message: String, headers: [(name: String, value: String)] = [])
        -> HTTPResponse
    {
        var writer = JSONWriter(capacity: 64 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        writeError(into: &writer, code: code, message: message)
        writer.endObject()
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: writer.bytes)
    }

    /// The one writer of an error object, `{"code":…,"message":…[,"field":…][, extra members]}`: every error body
    /// of the server, the presign API (whole responses and batch items) and the admin proxy goes through it.
    public static func writeError(
        into writer: inout JSONWriter, code: String, message: String, field: String? = nil,
        extra: [(name: String, value: String)] = []
    ) {
        writer.beginObject()
        writer.string("code", code)
        writer.string("message", message)
        if let field { writer.string("field", field) }
        for (name, value) in extra { writer.string(name, value) }
        writer.endObject()
    }

    public static func json(_ status: HTTPStatus = .ok, _ body: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }
}

/// Writes response heads. Pure: the Date line and request id come in as parameters.
public enum HTTPResponseWriter {
    /// Head plus body in one buffer (one `uv_write`). `headRequest` drops the body but keeps its length.
    public static func serialize(
        _ response: HTTPResponse, keepAlive: Bool, http10: Bool, requestId: String, dateLine: [UInt8],
        headRequest: Bool
    ) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + response.body.count + response.headers.count * 32)
        out += (http10 ? "HTTP/1.0 " : "HTTP/1.1 ").utf8
        out += String(response.status.code).utf8
        out.append(0x20)
        out += response.status.reason.utf8
        out += "\r\n".utf8
        out += dateLine
        for (name, value) in response.headers {
            out += name.utf8
            out += ": ".utf8
            out += value.utf8
            out += "\r\n".utf8
        }
        out += "Content-Length: ".utf8
        if headRequest, let length = response.headContentLength {
            out += String(length).utf8
        } else {
            out += String(response.body.count).utf8
        }
        out += "\r\nX-Request-Id: ".utf8
        out += requestId.utf8
        if !keepAlive {
            out += "\r\nConnection: close".utf8
        } else if http10 {
            out += "\r\nConnection: keep-alive".utf8
        }
        out += "\r\n\r\n".utf8
        if !headRequest { out += response.body }
        return out
    }

    /// The head of a streamed (chunked) response.
    public static func streamHead(
        status: HTTPStatus, headers: [(name: String, value: String)], keepAlive: Bool, requestId: String,
        dateLine: [UInt8]
    ) -> [UInt8] {
        var out = Array("HTTP/1.1 \(status.code) \(status.reason)\r\n".utf8)
        out += dateLine
        for (name, value) in headers { out += "\(name): \(value)\r\n".utf8 }
        out += "Transfer-Encoding: chunked\r\nX-Request-Id: \(requestId)\r\n".utf8
        if !keepAlive { out += "Connection: close\r\n".utf8 }
        out += "\r\n".utf8
        return out
    }

    /// One chunk in chunked framing; an empty input gives the last chunk.
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(String(bytes.count, radix: 16).utf8)
        out += "\r\n".utf8
        out += bytes
        out += "\r\n".utf8
        return bytes.isEmpty ? Array("0\r\n\r\n".utf8) : out
    }
}

