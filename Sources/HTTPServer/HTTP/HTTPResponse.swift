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
        serialize(
            response, keepAlive: keepAlive, http10: http10, requestId: requestId, dateLine: dateLine,
            headRequest: headRequest, into: &out)
        return out
    }

    /// `serialize` appending to `out`: the server writes into a reused buffer (`WriteRequest`), where a new array
    /// and the generic appends of `String.UTF8View` cost an allocation and ~1,500 instructions a response.
    public static func serialize(
        _ response: HTTPResponse, keepAlive: Bool, http10: Bool, requestId: String, dateLine: [UInt8],
        headRequest: Bool, into out: inout [UInt8]
    ) {
        out.reserveCapacity(out.count + 160 + response.body.count + response.headers.count * 32)
        append(http10 ? "HTTP/1.0 " : "HTTP/1.1 ", to: &out)
        appendDecimal(response.status.code, to: &out)
        out.append(0x20)
        append(response.status.reason, to: &out)
        append("\r\n", to: &out)
        out += dateLine
        for (name, value) in response.headers {
            append(name, to: &out)
            append(": ", to: &out)
            append(value, to: &out)
            append("\r\n", to: &out)
        }
        append("Content-Length: ", to: &out)
        if headRequest, let length = response.headContentLength {
            appendDecimal(Int(length), to: &out)
        } else {
            appendDecimal(response.body.count, to: &out)
        }
        append("\r\nX-Request-Id: ", to: &out)
        append(requestId, to: &out)
        if !keepAlive {
            append("\r\nConnection: close", to: &out)
        } else if http10 {
            append("\r\nConnection: keep-alive", to: &out)
        }
        append("\r\n\r\n", to: &out)
        if !headRequest { out += response.body }
    }

    /// A string's UTF-8 bytes, copied from its storage in one go.
    @inline(__always)
    static func append(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { out.append(contentsOf: $0) }
    }

    /// A non-negative integer in decimal, as `String(value)` spells it.
    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value > 0 else {
            if value == 0 { out.append(UInt8(ascii: "0")) } else { append(String(value), to: &out) }
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
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

