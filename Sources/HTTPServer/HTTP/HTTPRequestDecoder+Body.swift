import JSONKit
internal import CHTTPParser

/// The body side of the decoder: framed chunks out, and http-parser driven over the buffered bytes. The second of
/// the two files that wrap CHTTPParser.
extension HTTPRequestDecoder {
    func nextBody() -> Event? {
        if messageComplete {
            if !chunk.isEmpty { return takeChunk() }
            messageComplete = false
            mode = .head
            scanIndex = readIndex
            http_parser_pause(&parser, 0)
            return .end
        }
        if readIndex < buffer.count {
            let consumed = execute(from: readIndex, to: buffer.count)
            readIndex += consumed
            if let error = parserError(), error != HPE_PAUSED.rawValue {
                return fail(.malformed(String(cString: http_errno_description(http_errno(error)))))
            }
        }
        if !chunk.isEmpty {
            bodyBytes += Int64(chunk.count)
            if bodyBytes > bodyLimit { return fail(.bodyTooLarge) }
            return takeChunk()
        }
        if messageComplete { return nextBody() }
        return nil
    }

    func takeChunk() -> Event {
        let out = chunk
        chunk.removeAll(keepingCapacity: true)
        return .body(out)
    }

    func execute(from start: Int, to end: Int) -> Int {
        parser.data = Unmanaged.passUnretained(self).toOpaque()
        return buffer.withUnsafeBufferPointer { bytes in
            bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { base in
                http_parser_execute(&parser, &settings, base + start, end - start)
            }
        }
    }

    func execute(_ bytes: [UInt8]) -> Int {
        parser.data = Unmanaged.passUnretained(self).toOpaque()
        return bytes.withUnsafeBufferPointer { pointer in
            pointer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: pointer.count) { base in
                http_parser_execute(&parser, &settings, base, pointer.count)
            }
        }
    }

    /// The methods http-parser itself recognizes.
    static let knownMethods: Set<[UInt8]> = {
        var names: Set<[UInt8]> = []
        for index in 0..<64 {
            let name = String(cString: http_method_str(http_method(UInt32(index))))
            if name != "<unknown>" { names.insert(Array(name.utf8)) }
        }
        return names
    }()

    func parserError() -> UInt32? {
        let error = presignd_http_parser_errno(&parser)
        return error == HPE_OK.rawValue ? nil : error
    }
}
