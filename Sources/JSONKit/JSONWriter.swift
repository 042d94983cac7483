/// The project's one JSON writer: responses, audit and access logs, POST policies and the command line all write
/// through it, so escaping is decided in one place. It appends bytes to a buffer and tracks commas itself, so the
/// hot path builds a response without intermediate strings or dictionaries. Keys are written in the order given:
/// callers fix the order, and tests compare exact bytes.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Bit `d` is set when the container at depth `d` already holds a member (so the next needs a comma). Nesting
    /// here is shallow (a few levels); 64 is far above anything written.
    private var hasMember: UInt64 = 0
    private var depth = 0
    /// A key was just written: the next value must not be preceded by a comma.
    private var afterKey = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    private mutating func separate() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(depth - 1)
        if hasMember & bit != 0 { bytes.append(UInt8(ascii: ",")) } else { hasMember |= bit }
    }

    private mutating func open(_ byte: UInt8) {
        separate()
        bytes.append(byte)
        depth += 1
        precondition(depth <= 64, "JSON written deeper than 64 levels")
        hasMember &= ~(1 << UInt64(depth - 1))
    }

    private mutating func close(_ byte: UInt8) {
        depth -= 1
        bytes.append(byte)
    }

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A member name; the next call writes its value.
    public mutating func key(_ name: String) {
        separate()
        Self.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        separate()
        Self.appendString(value, to: &bytes)
    }

    public mutating func integer(_ value: some BinaryInteger) {
        separate()
        bytes += String(value).utf8
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes += (value ? "true" : "false").utf8
    }

    public mutating func null() {
        separate()
        bytes += "null".utf8
    }

    /// Bytes that are already one JSON value (a member object built elsewhere, say).
    public mutating func raw(_ json: [UInt8]) {
        separate()
        bytes += json
    }

    public mutating func string(_ name: String, _ value: String) {
        key(name)
        string(value)
    }

    /// A member whose string value `write` appends straight into the buffer: only for text that never needs
    /// escaping (digits, letters, `-`, `:`: a timestamp), so no `String` is made for it.
    public mutating func plainString(_ name: String, _ write: (inout [UInt8]) -> Void) {
        key(name)
        separate()
        bytes.append(UInt8(ascii: "\""))
        write(&bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// A member whose string value is UTF-8 bytes (a URL built as bytes): no `String` made for it.
    public mutating func string(_ name: String, utf8 value: some Sequence<UInt8>) {
        key(name)
        separate()
        let copied: Void? = value.withContiguousStorageIfAvailable { Self.appendString(utf8: $0, to: &bytes) }
        if copied == nil { Self.appendString(String(decoding: Array(value), as: UTF8.self), to: &bytes) }
    }

    public mutating func optionalString(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }

    public mutating func integer(_ name: String, _ value: some BinaryInteger) {
        key(name)
        integer(value)
    }

    public mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        bool(value)
    }

    /// A whole parsed value, members in document order.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .integer(let number): integer(number)
        case .number(let number):
            separate()
            bytes += "\(number)".utf8
        case .string(let text): string(text)
        case .array(let items):
            beginArray()
            for item in items { self.value(item) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, item) in members {
                key(name)
                self.value(item)
            }
            endObject()
        }
    }

    /// Appends `text` as a JSON string: `"`, `\` and control characters escaped (`\n`, `\r`, `\t`, else `\u00xx`),
    /// everything else (UTF-8 included) copied as is.
    public static func appendString(_ text: String, to out: inout [UInt8]) {
        // Fast path: most strings (URLs, keys, names) need no escaping and are copied in one go.
        let copied: Void? = text.utf8.withContiguousStorageIfAvailable { appendString(utf8: $0, to: &out) }
        if copied == nil { appendEscaped(text.utf8, to: &out) }
    }

    /// `bytes` (UTF-8) as a JSON string, copied in one go when nothing needs escaping.
    public static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        if needsEscaping(bytes) { return appendEscaped(bytes, to: &out) }
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "\""))
    }

    /// Whether any byte is a control character, `"` or `\`. Eight bytes at a time: `(w - 0x20…) & ~w & 0x80…` is
    /// non-zero exactly when some byte of `w` is under 0x20, and a byte equal to `c` is a zero byte of `w ^ c…`
    /// (a byte at a time: about 1.9k instructions more per presigned URL).
    static func needsEscaping(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func below(_ word: UInt64, _ limit: UInt8) -> Bool {
            (word &- ones &* UInt64(limit)) & ~word & highs != 0
        }
        var index = 0
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            while index + 8 <= bytes.count {
                let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                if below(word, 0x20) || below(word ^ (ones &* 0x22), 1) || below(word ^ (ones &* 0x5C), 1) { return true }
                index += 8
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return true }
            index += 1
        }
        return false
    }

    static func appendEscaped(_ text: some Sequence<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text {
            switch byte {
            case UInt8(ascii: "\""): out += #"\""#.utf8
            case UInt8(ascii: "\\"): out += #"\\"#.utf8
            case 0x0A: out += #"\n"#.utf8
            case 0x0D: out += #"\r"#.utf8
            case 0x09: out += #"\t"#.utf8
            case 0..<0x20:
                out += #"\u00"#.utf8
                out.append(ASCII.hexDigit(byte >> 4))
                out.append(ASCII.hexDigit(byte & 15))
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` as a JSON string literal.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
