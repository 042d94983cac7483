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
            releaseLargeStorage()
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

    /// Storage above this is freed when a message ends with nothing pending: an idle keep-alive connection after an
    /// upload or a big head kept up to 64 KiB of read buffer and as much again of body chunk (issue 23). Storage
    /// below it is kept, so an ordinary request allocates nothing more.
    static let idleStorageBytes = 4096

    func releaseLargeStorage() {
        if readIndex == buffer.count && buffer.capacity > Self.idleStorageBytes {
            buffer = []
            readIndex = 0
            scanIndex = 0
        }
        if chunk.capacity > Self.idleStorageBytes { chunk = [] }
        if url.capacity > Self.idleStorageBytes { url = [] }
        if field.capacity > Self.idleStorageBytes { field = [] }
        if value.capacity > Self.idleStorageBytes { value = [] }
    }

    /// Bytes of storage the decoder holds between messages (its read buffer and scratch arrays, by capacity).
    public var retainedBytes: Int {
        buffer.capacity + chunk.capacity + url.capacity + field.capacity + value.capacity
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
