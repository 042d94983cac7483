/// Byte-level ASCII helpers shared by the HTTP parser, the signer's validation, the JSON reader and auth: one
/// definition of a token byte, of hex digits and of case folding.
public enum ASCII {
    /// An RFC 9110 `tchar`: what header names, methods and media-type tokens are made of.
    @inlinable public static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
            UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
            UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Whether two texts are the same bytes. Swift's `==` on strings is canonical equivalence: it treats different
    /// byte strings as equal (`é` and `e` + U+0301, `K` and the Kelvin sign) and sorts each run of combining marks
    /// before comparing, which costs the square of the run's length. Names and identities from a client are
    /// compared with this instead: exact, and linear.
    @inlinable public static func same(_ a: some StringProtocol, _ b: some StringProtocol) -> Bool {
        let left = a.utf8
        let right = b.utf8
        guard left.count == right.count else { return false }
        // Native strings and their substrings are contiguous: compare the two buffers, not two iterators.
        let contiguous: Bool?? = left.withContiguousStorageIfAvailable { l in
            right.withContiguousStorageIfAvailable { r in l.elementsEqual(r) }
        }
        if case let result?? = contiguous { return result }
        return left.elementsEqual(right)
    }

    /// `same` for optional texts: both absent, or both present and the same bytes.
    @inlinable public static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): return true
        case let (a?, b?): return same(a, b)
        default: return false
        }
    }

    @inlinable public static func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    @inlinable public static func isAlphanumeric(_ b: UInt8) -> Bool {
        isDigit(b) || (b | 0x20 >= UInt8(ascii: "a") && b | 0x20 <= UInt8(ascii: "z"))
    }

    /// SP, HT, CR or LF: the whitespace `trimmed` drops (HTTP's optional whitespace, plus line ends).
    @inlinable public static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// `text` without leading and trailing SP, HT, CR and LF: the one trim (header values, list elements, token
    /// files, INI lines, XML text). Nothing else counts as space: no Unicode whitespace, no form feed.
    public static func trimmed(_ text: Substring) -> Substring {
        let utf8 = text.utf8
        guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
            return text[text.endIndex...]
        }
        return Substring(utf8[first...last])
    }

    /// The same trim over bytes.
    public static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else {
            return bytes[bytes.endIndex...]
        }
        return bytes[first...last]
    }

    /// The value of a hex digit (either case), or nil.
    @inlinable public static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    /// The lower-case hex digit for 0...15.
    /// Appends a byte as two lower-case hex digits.
    @inlinable public static func appendHex(_ byte: UInt8, to out: inout [UInt8]) {
        out.append(hexDigit(byte >> 4))
        out.append(hexDigit(byte & 15))
    }

    @inlinable public static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// A letter, digit, `-` or `_` (the base64url alphabet, no padding).
    @inlinable public static func isBase64URLByte(_ b: UInt8) -> Bool {
        (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
            || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
    }

    @inlinable public static func lowercased(_ b: UInt8) -> UInt8 {
        b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b | 0x20 : b
    }

    /// Decodes `%XX` escapes (either case). With `plusAsSpace`, `+` becomes a space (form encoding). Nil for a
    /// malformed escape or bytes that are not UTF-8.
    public static func percentDecode(_ text: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        if let decoded = text.utf8.withContiguousStorageIfAvailable({ percentDecode(buffer: $0, plusAsSpace: plusAsSpace) }) {
            return decoded
        }
        return Array(text.utf8).withUnsafeBufferPointer { percentDecode(buffer: $0, plusAsSpace: plusAsSpace) }
    }

    /// `percentDecode` over contiguous bytes: the one implementation, compiled here (a generic call from another
    /// module ran unspecialized, an iterator call per byte). Text with nothing to decode is returned as it is.
    public static func percentDecode(buffer: UnsafeBufferPointer<UInt8>, plusAsSpace: Bool = false) -> String? {
        guard buffer.contains(where: { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }) else {
            return String(validating: buffer, as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count)
        var index = 0
        while index < buffer.count {
            let byte = buffer[index]
            index += 1
            if byte == UInt8(ascii: "%") {
                guard index + 1 < buffer.count, let high = hexValue(buffer[index]), let low = hexValue(buffer[index + 1]) else {
                    return nil
                }
                out.append(high << 4 | low)
                index += 2
            } else if plusAsSpace && byte == UInt8(ascii: "+") {
                out.append(UInt8(ascii: " "))
            } else {
                out.append(byte)
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// ASCII case-insensitive comparison, for header names. Inlinable so that callers in other modules get a
    /// specialized copy: as a generic call across modules it cost a header lookup ~15 times more (callgrind).
    @inlinable
    public func caseInsensitiveEquals(_ other: some StringProtocol) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        var right = other.utf8.makeIterator()
        for a in utf8 {
            guard let b = right.next() else { return false }
            if a != b && ASCII.lowercased(a) != ASCII.lowercased(b) { return false }
        }
        return true
    }

    /// Whether the UTF-8 bytes contain `needle` (ASCII), without Foundation's locale-aware search and without
    /// copying the string (this runs several times per media-type check, on the presign hot path).
    @inlinable
    public func containsASCII(_ needle: StaticString) -> Bool {
        let count = needle.utf8CodeUnitCount
        guard count > 0 else { return true }
        let start = needle.utf8Start
        func search(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count >= count else { return false }
            outer: for offset in 0...(bytes.count - count) {
                for index in 0..<count where bytes[offset + index] != start[index] { continue outer }
                return true
            }
            return false
        }
        if let found = utf8.withContiguousStorageIfAvailable(search) { return found }
        return Array(utf8).withUnsafeBufferPointer(search)
    }
}
