/// Tags, comments, processing instructions, CDATA and the refused DOCTYPE: each read once it has fully arrived,
/// its end found by a scan that resumes where it stopped, and refused as soon as it is over its bound.
extension XMLPullParser {
    /// At a `<`.
    mutating func markup() throws(S3XML.ParseError) -> Step {
        guard buffer.count - position >= 2 else { return .incomplete }
        switch buffer[position + 1] {
        case UInt8(ascii: "/"): return try endTag()
        case UInt8(ascii: "?"):
            guard let end = try markupEnd(Self.piEnd, contentFrom: 2, limit: limits.textBytes,
                                          "an XML processing instruction over \(limits.textBytes) bytes") else { return .incomplete }
            position = end
            return .skipped
        case UInt8(ascii: "!"): return try declaration()
        default: return try startTag()
        }
    }

    static let piEnd = Array("?>".utf8)
    static let commentEnd = Array("-->".utf8)
    static let cdataEnd = Array("]]>".utf8)
    static let commentStart = Array("--".utf8)
    static let cdataStart = Array("[CDATA[".utf8)
    static let doctype = Array("DOCTYPE".utf8)

    /// `<!--`, `<![CDATA[` or the refused `<!DOCTYPE`.
    private mutating func declaration() throws(S3XML.ParseError) -> Step {
        let rest = buffer[(position + 2)...]
        func arrived(_ word: [UInt8]) -> Bool? {
            if rest.starts(with: word) { return true }
            return rest.count < word.count && word.starts(with: rest) ? nil : false
        }
        switch (arrived(Self.commentStart), arrived(Self.cdataStart), arrived(Self.doctype)) {
        case (true?, _, _):
            guard let end = try markupEnd(Self.commentEnd, contentFrom: 4, limit: limits.textBytes,
                                          "an XML comment over \(limits.textBytes) bytes") else { return .incomplete }
            position = end
            return .skipped
        case (_, true?, _):
            guard !openEnds.isEmpty else { throw Self.notWellFormed }
            let room = limits.textBytes - textCounts[textCounts.count - 1]
            guard let end = try markupEnd(Self.cdataEnd, contentFrom: 9, limit: room, tooMuchText().message) else { return .incomplete }
            let content = buffer[(position + 9)..<(end - 3)]
            textCounts[textCounts.count - 1] += content.count
            position = end
            return .event(.cdata(content))
        case (_, _, true?): throw S3XML.ParseError(message: "XML with a DOCTYPE is refused")
        case (nil, _, _), (_, nil, _), (_, _, nil): return .incomplete
        default: throw Self.notWellFormed
        }
    }

    /// The index just past `terminator` (it ends in `>`), searched from where the last search stopped; nil when it
    /// has not arrived. Content (from `position + contentFrom` to the terminator) over `limit` bytes is `message`.
    private mutating func markupEnd(_ terminator: [UInt8], contentFrom: Int, limit: Int, _ message: String)
        throws(S3XML.ParseError) -> Int?
    {
        let contentStart = position + contentFrom
        var from = max(contentStart, position + scanned)
        while let close = find(UInt8(ascii: ">"), from: from, to: buffer.count) {
            let begin = close - (terminator.count - 1)
            if begin >= contentStart && buffer[begin..<close].elementsEqual(terminator.dropLast()) {
                guard begin - contentStart <= limit else { throw S3XML.ParseError(message: message) }
                scanned = 0
                return close + 1
            }
            from = close + 1
        }
        scanned = buffer.count - position
        if buffer.count - contentStart > limit + terminator.count { throw S3XML.ParseError(message: message) }
        return nil
    }

    private func tagTooLong() -> S3XML.ParseError { S3XML.ParseError(message: "an XML tag over \(limits.tagBytes) bytes") }

    private mutating func endTag() throws(S3XML.ParseError) -> Step {
        guard let gt = find(UInt8(ascii: ">"), from: position + max(2, scanned), to: buffer.count) else {
            scanned = buffer.count - position
            if scanned > limits.tagBytes { throw tagTooLong() }
            return .incomplete
        }
        scanned = 0
        var at = position + 2
        let name = try scanName(&at, gt)
        skipSpace(&at, gt)
        guard at == gt, !openEnds.isEmpty else { throw Self.notWellFormed }
        let start = openEnds.count > 1 ? openEnds[openEnds.count - 2] : 0
        guard openNames[start...].elementsEqual(name) else { throw Self.notWellFormed }
        position = gt + 1
        return .event(close())
    }

    /// The `>` that ends the start tag at `position` (outside quoted values), or nil when it has not arrived.
    private mutating func startTagEnd() throws(S3XML.ParseError) -> Int? {
        var at = position + max(1, scanned)
        // Most tags have no quoted value before their first `>`: three memchr and done.
        if quote == 0, let gt = find(UInt8(ascii: ">"), from: at, to: buffer.count),
            find(UInt8(ascii: "\""), from: at, to: gt) == nil, find(UInt8(ascii: "'"), from: at, to: gt) == nil {
            guard gt + 1 - position <= limits.tagBytes else { throw tagTooLong() }
            scanned = 0
            return gt
        }
        while at < buffer.count {
            if quote != 0 {
                guard let closing = find(quote, from: at, to: buffer.count) else {
                    at = buffer.count
                    break
                }
                quote = 0
                at = closing + 1
                continue
            }
            switch buffer[at] {
            case UInt8(ascii: ">"):
                guard at + 1 - position <= limits.tagBytes else { throw tagTooLong() }
                scanned = 0
                return at
            case UInt8(ascii: "\""), UInt8(ascii: "'"): quote = buffer[at]
            default: break
            }
            at += 1
        }
        scanned = at - position
        if scanned > limits.tagBytes { throw tagTooLong() }
        return nil
    }

    private mutating func startTag() throws(S3XML.ParseError) -> Step {
        guard let close = try startTagEnd() else { return .incomplete }
        var at = position + 1
        let name = try scanName(&at, close)
        var attributes: [Attribute] = []
        var empty = false
        while true {
            let spaced = skipSpace(&at, close)
            if at == close { break }
            if buffer[at] == UInt8(ascii: "/") {
                guard at + 1 == close else { throw Self.notWellFormed }
                empty = true
                break
            }
            guard spaced else { throw Self.notWellFormed }
            let attribute = try scanName(&at, close)
            skipSpace(&at, close)
            guard at < close, buffer[at] == UInt8(ascii: "=") else { throw Self.notWellFormed }
            at += 1
            skipSpace(&at, close)
            guard at < close, buffer[at] == UInt8(ascii: "\"") || buffer[at] == UInt8(ascii: "'"),
                let valueEnd = find(buffer[at], from: at + 1, to: close)
            else { throw Self.notWellFormed }
            let value = buffer[(at + 1)..<valueEnd]
            guard value.count <= limits.attributeBytes else {
                throw S3XML.ParseError(message: "an XML attribute value over \(limits.attributeBytes) bytes")
            }
            guard find(UInt8(ascii: "<"), from: at + 1, to: valueEnd) == nil else { throw Self.notWellFormed }
            _ = try checkReferences(at + 1, valueEnd, final: true)
            guard attributes.count < limits.attributes else {
                throw S3XML.ParseError(message: "an XML element with more than \(limits.attributes) attributes")
            }
            guard !attributes.contains(where: { $0.name.elementsEqual(attribute) }) else { throw Self.notWellFormed }
            attributes.append(Attribute(name: attribute, value: value))
            at = valueEnd + 1
        }
        if openEnds.isEmpty {
            guard !rootSeen else { throw Self.notWellFormed }
            rootSeen = true
        }
        guard openEnds.count < limits.depth else { throw S3XML.ParseError(message: "XML nested deeper than \(limits.depth) levels") }
        elementCount += 1
        guard elementCount <= limits.elements else { throw S3XML.ParseError(message: "XML with more than \(limits.elements) elements") }
        openNames.append(contentsOf: name)
        openEnds.append(openNames.count)
        textCounts.append(0)
        position = close + 1
        emptyElementOpen = empty
        return .event(.start(name, attributes))
    }

    /// A name at `at` (moved past it), at most `limits.nameBytes`.
    private func scanName(_ at: inout Int, _ end: Int) throws(S3XML.ParseError) -> ArraySlice<UInt8> {
        let start = at
        at = buffer.withUnsafeBufferPointer { bytes in
            var index = start
            while index < end, S3XML.nameBytes[Int(bytes[index])] { index += 1 }
            return index
        }
        guard at > start, S3XML.isNameStart(buffer[start]) else { throw Self.notWellFormed }
        guard at - start <= limits.nameBytes else { throw S3XML.ParseError(message: "an XML name over \(limits.nameBytes) bytes") }
        return buffer[start..<at]
    }

    /// Moves `at` past whitespace; whether there was any.
    @discardableResult
    private func skipSpace(_ at: inout Int, _ end: Int) -> Bool {
        let start = at
        at = buffer.withUnsafeBufferPointer { bytes in
            var index = start
            while index < end, bytes[index] <= 0x20, S3XML.isSpace(bytes[index]) { index += 1 }
            return index
        }
        return at > start
    }
}
