import JSONKit
internal import CHTTPParser

/// Turns bytes into requests, one message at a time. It scans each header block itself first and refuses what
/// http-parser would tolerate (obs-fold, bare CR or LF, NUL, oversize), then lets http-parser parse the head and
/// frame the body (Content-Length or chunked). After each complete message it pauses until `next()` is called
/// again, so pipelined requests are handled strictly in order. No sockets: tests feed bytes directly.
public final class HTTPRequestDecoder {
    public enum Event: Sendable, Equatable {
        case head(method: HTTPMethod, target: String)
        case body([UInt8])
        case end
        case error(HTTPRequestError)
    }

    public struct Limits: Sendable {
        public var maxHeaderBytes: Int
        public var maxBodyBytes: Int64

        public init(maxHeaderBytes: Int = 16 * 1024, maxBodyBytes: Int64 = 1024 * 1024) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxBodyBytes = maxBodyBytes
        }
    }

    enum Mode { case head, body, failed }

    let limits: Limits
    var parser = http_parser()
    var settings = http_parser_settings()
    var buffer: [UInt8] = []
    /// The current request's method, read from its request line.
    private var method = HTTPMethod.get
    /// Requests this says yes to (streamed uploads) may have bodies up to `streamingBodyLimit`.
    var streamingPredicate: ((_ method: HTTPMethod, _ path: Substring) -> Bool)?
    var streamingBodyLimit: Int64 = 0
    /// The body limit of the message being read.
    var bodyLimit: Int64 = 0
    /// Whether the current message's body is streamed to its handler.
    private(set) var currentStreams = false
    var readIndex = 0
    var mode = Mode.head
    // Head scanning state.
    var scanIndex = 0
    private var lineStart = true
    private var sawCR = false
    private var sawRequestLine = false
    // Filled by http-parser callbacks.
    var url: [UInt8] = []
    private var headers: [(name: String, value: String)] = []
    var field: [UInt8] = []
    var value: [UInt8] = []
    private var inValue = false
    var chunk: [UInt8] = []
    var messageComplete = false
    private var headersComplete = false
    var bodyBytes: Int64 = 0
    /// The head of the current message, available after `.head`.
    public private(set) var currentHead: HTTPRequestHead?

    public init(limits: Limits = Limits()) {
        self.limits = limits
        http_parser_init(&parser, HTTP_REQUEST)
        settings.on_url = { parser, at, length in
            HTTPRequestDecoder.from(parser).url.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.on_header_field = { parser, at, length in
            let decoder = HTTPRequestDecoder.from(parser)
            if decoder.inValue { decoder.flushHeader() }
            decoder.field.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.on_header_value = { parser, at, length in
            let decoder = HTTPRequestDecoder.from(parser)
            decoder.inValue = true
            decoder.value.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.on_headers_complete = { parser in
            let decoder = HTTPRequestDecoder.from(parser)
            if decoder.inValue { decoder.flushHeader() }
            decoder.headersComplete = true
            return 0
        }
        settings.on_body = { parser, at, length in
            let decoder = HTTPRequestDecoder.from(parser)
            decoder.chunk.append(contentsOf: UnsafeRawBufferPointer(start: at, count: length))
            return 0
        }
        settings.on_message_complete = { parser in
            guard let parser else { return 0 }
            HTTPRequestDecoder.from(parser).messageComplete = true
            http_parser_pause(parser, 1)
            return 0
        }
    }

    private static func from(_ parser: UnsafeMutablePointer<http_parser>?) -> HTTPRequestDecoder {
        Unmanaged<HTTPRequestDecoder>.fromOpaque(parser!.pointee.data).takeUnretainedValue()
    }

    private func flushHeader() {
        headers.append((String(decoding: field, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        inValue = false
    }

    /// Bytes not yet consumed (pipelined data waiting for its turn).
    public var bufferedBytes: Int { buffer.count - readIndex }

    /// True while a message's head has been seen but not its end.
    public var inBody: Bool { mode == .body }

    /// True when bytes of a new head have arrived but it is not complete.
    public var inPartialHead: Bool { mode == .head && buffer.count > readIndex }

    /// Appends bytes. Consumed bytes are dropped first whenever they are at least half the buffer (or all of it),
    /// so the buffer holds what is unconsumed plus at most as much again: a client that always leaves half a
    /// request pending cannot make it keep everything it ever sent. Each byte is moved a bounded number of times.
    public func feed(_ bytes: UnsafeRawBufferPointer) {
        if readIndex > 0 && (readIndex == buffer.count || readIndex * 2 >= buffer.count) {
            buffer.removeSubrange(0..<readIndex)
            scanIndex = max(scanIndex - readIndex, 0)
            readIndex = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Bytes the buffer holds, consumed or not (tests of the compaction bound).
    public var bufferFootprint: Int { buffer.count }

    public func feed(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { feed($0) }
    }

    /// The next event, or nil when more bytes are needed.
    public func next() -> Event? {
        switch mode {
        case .failed:
            return nil
        case .head:
            return nextHead()
        case .body:
            return nextBody()
        }
    }

    func fail(_ error: HTTPRequestError) -> Event {
        mode = .failed
        return .error(error)
    }

    private func nextHead() -> Event? {
        var end: Int?
        while scanIndex < buffer.count {
            let byte = buffer[scanIndex]
            scanIndex += 1
            if byte == 0 { return fail(.malformed("NUL byte in header block")) }
            if sawCR {
                guard byte == 0x0A else { return fail(.malformed("bare CR in header block")) }
                sawCR = false
                if lineStart {
                    if sawRequestLine {
                        end = scanIndex
                        break
                    }
                    readIndex = scanIndex  // empty lines before a request line are ignored (RFC 9112 2.2)
                }
                lineStart = true
                continue
            }
            if byte == 0x0D {
                sawCR = true
                continue
            }
            if byte == 0x0A { return fail(.malformed("bare LF in header block; lines end with CRLF")) }
            if lineStart && sawRequestLine && (byte == 0x20 || byte == 0x09) {
                return fail(.smuggling("obsolete line folding in a header"))
            }
            if lineStart && !sawRequestLine && (byte == 0x20 || byte == 0x09) {
                return fail(.malformed("request line starts with whitespace"))
            }
            lineStart = false
            sawRequestLine = true
        }
        guard let end else {
            if scanIndex - readIndex > limits.maxHeaderBytes { return fail(.headerTooLarge) }
            return nil
        }
        if end - readIndex > limits.maxHeaderBytes { return fail(.headerTooLarge) }
        // Parse exactly the head. A chunked body's trailer fields reach on_header_field/value but never
        // on_headers_complete, so one can still be pending here: it must not become a header of this request.
        url.removeAll(keepingCapacity: true)
        // The last head gives its header list back (its method and target stay, for the access log of a request
        // refused now): a list no one else holds any more is reused in place, where a copy cost an allocation.
        currentHead?.releaseHeaders()
        headers.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        value.removeAll(keepingCapacity: true)
        inValue = false
        headersComplete = false
        messageComplete = false
        bodyBytes = 0
        http_parser_init(&parser, HTTP_REQUEST)
        // The method is decoded here, once, from the request line's first token. http-parser knows a fixed list of
        // methods; a method outside it that is a valid token (QUERY, say) is parsed as GET, which frames a body the
        // same way, and reported under its own name, so that the router can answer 405 with Allow instead of 400.
        let consumed: Int
        let expected: Int
        let space = buffer[readIndex..<end].firstIndex(of: 0x20)
        let token = space.map { buffer[readIndex..<$0] } ?? []
        let known = HTTPMethod.known(token)
        let unknownToken = known == nil && !token.isEmpty && token.allSatisfy(ASCII.isTokenByte)
        // A request line http-parser refuses has no method worth naming (the request is answered 400).
        method = known ?? (unknownToken ? HTTPMethod(bytes: token) : .get)
        if unknownToken, let space, !Self.knownMethods.contains(Array(token)) {
            let rewritten = Array("GET".utf8) + buffer[space..<end]
            consumed = execute(rewritten)
            expected = rewritten.count
        } else {
            consumed = execute(from: readIndex, to: end)
            expected = end - readIndex
        }
        if let error = parserError(), error != HPE_PAUSED.rawValue {
            // http-parser refuses some framing conflicts itself; name them as the smuggling attempts they are.
            if let framing = Self.framingError(inRawHead: buffer[readIndex..<end]) { return fail(framing) }
            return fail(.malformed(String(cString: http_errno_description(http_errno(error)))))
        }
        guard headersComplete, consumed == expected else {
            return fail(.malformed("incomplete request head"))
        }
        readIndex = end
        // Reset the scanner for the next message.
        lineStart = true
        sawCR = false
        sawRequestLine = false
        return buildHead()
    }

    private func buildHead() -> Event {
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        var expectsContinue = false
        // Only HTTP/1.0 and 1.1 are spoken here; http-parser reads any digit pair, and answering HTTP/9.9 as if it
        // were 1.1 would guess at framing the client may not mean.
        guard parser.http_major == 1, parser.http_minor <= 1 else { return fail(.versionNotSupported) }
        // One pass over the fields: each known one is recorded where it first appears (the head's index), a
        // singleton field that appears twice is refused (`HTTPField.isSingleton`), and the framing fields are kept.
        var fields = HTTPFieldIndex()
        for (position, (name, value)) in headers.enumerated() {
            if let field = HTTPField(name: name) {
                if !fields.record(field, at: position) && field.isSingleton {
                    return fail(.malformed("more than one \(field.name) header"))
                }
                switch field {
                case .contentLength: contentLengths.append(value)
                case .transferEncoding: transferEncodings.append(value)
                case .expect:
                    guard value.caseInsensitiveEquals("100-continue") else {
                        return fail(.malformed("unsupported Expect '\(value)'"))
                    }
                    expectsContinue = true
                default: break
                }
            }
            if name.isEmpty || !name.utf8.allSatisfy(ASCII.isTokenByte) {
                return fail(.malformed("invalid header name"))
            }
        }
        if let framing = Self.framingError(contentLengths: contentLengths, transferEncodings: transferEncodings) {
            return fail(framing)
        }
        var contentLength: Int64?
        if let text = contentLengths.first {
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let length = Int64(text) else {
                return fail(.malformed("invalid Content-Length"))
            }
            contentLength = length
        }
        // http-parser frames CONNECT as a tunnel and ignores its Content-Length, so a body would be read as the next
        // request. Nothing here tunnels: refuse it rather than guess.
        if method == .other("CONNECT") { return fail(.malformed("CONNECT is not supported")) }
        let target = String(decoding: url, as: UTF8.self)
        // The path as the router sees it (cut at the byte `?`): a Character scan cost ~500 instructions a request.
        let path = target.utf8.firstIndex(of: UInt8(ascii: "?")).map { target[..<$0] } ?? target[...]
        currentStreams = streamingPredicate?(method, path) ?? false
        bodyLimit = currentStreams ? streamingBodyLimit : limits.maxBodyBytes
        if let contentLength, contentLength > bodyLimit { return fail(.bodyTooLarge) }
        currentHead = HTTPRequestHead(
            method: method, target: target, versionMajor: Int(parser.http_major),
            versionMinor: Int(parser.http_minor), headers: headers, fields: fields,
            keepAlive: http_should_keep_alive(&parser) != 0,
            expectsContinue: expectsContinue, contentLength: contentLength, chunked: !transferEncodings.isEmpty)
        mode = .body
        return .head(method: method, target: currentHead!.target)
    }

}
