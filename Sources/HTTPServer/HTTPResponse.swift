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
        var body = Array(#"{"error":{"code":"#.utf8)
        JSONText.appendString(code, to: &body)
        body += #","message":"#.utf8
        JSONText.appendString(message, to: &body)
        body += "}}".utf8
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: body)
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

/// Minimal JSON string escaping for hand-written hot-path responses.
public enum JSONText {
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Fast path: most strings (URLs, keys, names) need no escaping and are copied in one go.
        let copied: Bool? = text.utf8.withContiguousStorageIfAvailable { bytes in
            for byte in bytes where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20:
                out += #"\u00"#.utf8
                out.append(byte >> 4 < 10 ? 0x30 + byte >> 4 : 0x57 + byte >> 4)
                out.append(byte & 15 < 10 ? 0x30 + byte & 15 : 0x57 + byte & 15)
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
