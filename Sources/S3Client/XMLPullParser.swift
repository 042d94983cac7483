#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small XML pull parser for what S3 and STS answer, fed as the bytes arrive (`append`, then `next()` until
/// `.needMore`; `end()` after the last byte). Every input is bounded while it arrives (`Limits`): depth, element
/// count, the text of one element, names, attributes and the size of any one piece of markup; a bound crossed is
/// an error at once, before the rest is read. Nothing is buffered beyond the piece of markup being read, and each
/// byte is scanned once (an unfinished tag or comment resumes where its scan stopped).
///
/// The XML it reads: elements, attributes, character data with the five predefined entities and character
/// references, CDATA, comments and processing instructions (skipped). A DOCTYPE is refused, so there are no other
/// entities, internal or external, to expand. Names are reported qualified (`s3:Key`); `S3XML.localName` strips
/// the prefix. Text is reported raw (references still in it, checked); `S3XML.decode` decodes the text kept.
struct XMLPullParser {
    struct Limits: Sendable, Equatable {
        /// Elements open at once.
        var depth = 32
        /// Elements in the whole document.
        var elements = 250_000
        /// Character data in one element (whitespace between its children excepted), and in any one run of it,
        /// one CDATA section, comment or processing instruction.
        var textBytes = 64 * 1024
        /// An element or attribute name, prefix included.
        var nameBytes = 256
        /// Attributes on one element.
        var attributes = 16
        /// One attribute value.
        var attributeBytes = 4 * 1024
        /// One tag, from `<` to `>`.
        var tagBytes = 64 * 1024
    }

    struct Attribute: Equatable {
        var name: ArraySlice<UInt8>
        /// Raw: references still in it (`S3XML.decode(attribute:)`).
        var value: ArraySlice<UInt8>
    }

    enum Event: Equatable {
        /// A start tag (`<a/>` is a start, then an end).
        case start(ArraySlice<UInt8>, [Attribute])
        case end
        /// A piece of character data, raw. One run of text may come in several pieces as it arrives.
        case text(ArraySlice<UInt8>)
        case cdata(ArraySlice<UInt8>)
        /// Nothing more until `append` (or `end`).
        case needMore
        /// The document is complete and well-formed.
        case finished
    }

    let limits: Limits
    var buffer: [UInt8] = []
    var position = 0
    var inputEnded = false
    /// The qualified names of the open elements back to back, and where each ends.
    var openNames: [UInt8] = []
    var openEnds: [Int] = []
    /// Per open element: bytes of its character data so far.
    var textCounts: [Int] = []
    var elementCount = 0
    var rootSeen = false
    /// A `<a/>` was reported as a start; its end is the next event.
    var emptyElementOpen = false
    /// Bytes of the text run in progress.
    var runLength = 0
    /// For markup that has not fully arrived: how many of its bytes were scanned, and the quote open there.
    var scanned = 0
    var quote: UInt8 = 0
    var leadChecked = false

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Adds input. Call between `next()` calls, never while holding an event's slices if copies matter.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        buffer.append(contentsOf: bytes)
    }

    mutating func append(_ bytes: [UInt8]) {
        if buffer.isEmpty {
            buffer = bytes  // shares the caller's storage: a whole document is not copied
        } else {
            compact()
            buffer += bytes
        }
    }

    /// No more input: `next()` finishes the document or says what is missing.
    mutating func end() { inputEnded = true }

    private mutating func compact() {
        guard position > 0 else { return }
        buffer.removeSubrange(0..<position)
        position = 0
    }

    static let notWellFormed = S3XML.ParseError(message: "not well-formed XML")

    mutating func next() throws(S3XML.ParseError) -> Event {
        if emptyElementOpen {
            emptyElementOpen = false
            return close()
        }
        if !leadChecked {
            // A UTF-8 byte order mark is allowed first.
            let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
            let have = buffer.count - position
            if have < 3 && !inputEnded && buffer[position...].elementsEqual(bom.prefix(have)) { return .needMore }
            if buffer[position...].starts(with: bom) { position += 3 }
            leadChecked = true
        }
        while true {
            guard position < buffer.count else {
                if inputEnded { return try finish() }
                return .needMore
            }
            if buffer[position] != UInt8(ascii: "<") {
                if let event = try text() { return event }
                // Only the start of a reference has arrived.
                if position < buffer.count && buffer[position] != UInt8(ascii: "<") { return .needMore }
                continue
            }
            runLength = 0
            switch try markup() {
            case .event(let event): return event
            case .skipped: continue
            case .incomplete:
                if inputEnded { throw Self.notWellFormed }
                return .needMore
            }
        }
    }

    /// What one piece of markup came to.
    enum Step {
        case event(Event)
        /// A comment or processing instruction.
        case skipped
        /// Not all of it has arrived.
        case incomplete
    }

    private mutating func finish() throws(S3XML.ParseError) -> Event {
        guard openEnds.isEmpty else { throw Self.notWellFormed }
        guard rootSeen else { throw S3XML.ParseError(message: "empty XML document") }
        return .finished
    }

    /// Pops the innermost open element.
    mutating func close() -> Event {
        let start = openEnds.count > 1 ? openEnds[openEnds.count - 2] : 0
        openNames.removeLast(openNames.count - start)
        openEnds.removeLast()
        textCounts.removeLast()
        return .end
    }

    /// The local name of the innermost open element, for messages.
    var currentName: String {
        let start = openEnds.count > 1 ? openEnds[openEnds.count - 2] : 0
        return String(decoding: S3XML.localName(openNames[start...]), as: UTF8.self)
    }

    func tooMuchText() -> S3XML.ParseError {
        S3XML.ParseError(message: "text over \(limits.textBytes) bytes in <\(currentName)>")
    }

    /// Character data from `position` to the next `<` or to what has arrived; nil for nothing to report (text
    /// outside the root, or only the start of a reference so far). References are checked here.
    private mutating func text() throws(S3XML.ParseError) -> Event? {
        let start = position
        let stop = find(UInt8(ascii: "<"), from: start, to: buffer.count) ?? buffer.count
        let end = try checkReferences(start, stop, final: stop < buffer.count || inputEnded)
        let count = end - start
        guard count > 0 else { return nil }
        runLength += count
        position = end
        let piece = buffer[start..<end]
        if openEnds.isEmpty {
            // Before or after the root: only whitespace.
            guard S3XML.isSpace(piece) else { throw Self.notWellFormed }
            if runLength > limits.textBytes { throw S3XML.ParseError(message: "text over \(limits.textBytes) bytes outside the root element") }
            return nil
        }
        if runLength > limits.textBytes { throw tooMuchText() }
        if !S3XML.isSpace(piece) {
            textCounts[textCounts.count - 1] += count
            if textCounts[textCounts.count - 1] > limits.textBytes { throw tooMuchText() }
        }
        return .text(piece)
    }

    /// Checks the references in `start..<stop`; returns where the checked text ends (before a reference that has
    /// not fully arrived, unless `final`).
    mutating func checkReferences(_ start: Int, _ stop: Int, final: Bool) throws(S3XML.ParseError) -> Int {
        var at = start
        while let amp = find(UInt8(ascii: "&"), from: at, to: stop) {
            guard let semicolon = find(UInt8(ascii: ";"), from: amp + 1, to: min(stop, amp + S3XML.maxReferenceBytes)) else {
                if !final && stop - amp < S3XML.maxReferenceBytes { return amp }
                throw Self.notWellFormed
            }
            guard S3XML.referenceValue(buffer[(amp + 1)..<semicolon]) != nil else { throw Self.notWellFormed }
            at = semicolon + 1
        }
        return stop
    }

    /// The index of `byte` in `buffer[from..<to]` (memchr).
    func find(_ byte: UInt8, from: Int, to: Int) -> Int? {
        guard from < to else { return nil }
        return buffer.withUnsafeBytes { raw -> Int? in
            guard let base = raw.baseAddress, let hit = memchr(base + from, Int32(byte), to - from) else { return nil }
            return base.distance(to: UnsafeRawPointer(hit))
        }
    }
}
