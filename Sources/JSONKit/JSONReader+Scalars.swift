/// Strings, numbers and literals: each read at the cursor, which must be on its first byte (`kind()` says which).
extension JSONReader {
    mutating func literal(_ word: StaticString) throws(ParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of JSON") }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw fail("invalid literal") }
        index += count
    }

    /// `true` or `false`.
    public mutating func bool() throws(ParseError) -> Bool {
        if bytes[index] == UInt8(ascii: "t") {
            try literal("true")
            return true
        }
        try literal("false")
        return false
    }

    /// `null`.
    public mutating func null() throws(ParseError) { try literal("null") }

    mutating func hex4() throws(ParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = ASCII.hexValue(bytes[index]) else { throw fail("invalid \\u escape") }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Reads past the string at the cursor with every check of `string()`; one without escapes is validated in
    /// place, never copied.
    public mutating func skipString() throws(ParseError) {
        let start = index
        index += 1
        var ascii = true
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                if !ascii {
                    var parser = Unicode.UTF8.ForwardParser()
                    var iterator = bytes[(start + 1)..<index].makeIterator()
                    scalars: while true {
                        switch parser.parseScalar(from: &iterator) {
                        case .valid: continue
                        case .emptyInput: break scalars
                        case .error: throw fail("invalid UTF-8 in a string")
                        }
                    }
                }
                index += 1
                return
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in a string") }
            if b >= 0x80 { ascii = false }
            index += 1
        }
        // Escapes: rare in a request; decoded and dropped.
        index = start
        _ = try string()
    }

    /// The string at the cursor.
    public mutating func string() throws(ParseError) -> String {
        index += 1
        let start = index
        var ascii = true
        // Fast path: no escapes.
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                // ASCII needs no validation (and `String(decoding:)` has nothing to repair in it); anything else
                // goes through the validating initializer, whose generic path costs ~1,000 instructions a string.
                let text: String
                if ascii {
                    text = String(decoding: bytes[start..<index], as: UTF8.self)
                } else {
                    guard let valid = String(validating: bytes[start..<index], as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                    text = valid
                }
                index += 1
                return text
            }
            if b == UInt8(ascii: "\\") { break }
            if b < 0x20 { throw fail("control character in a string") }
            if b >= 0x80 { ascii = false }
            index += 1
        }
        var out = Array(bytes[start..<index])
        while index < bytes.count {
            let b = bytes[index]
            if b == UInt8(ascii: "\"") {
                guard let text = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in a string") }
                index += 1
                return text
            }
            if b < 0x20 { throw fail("control character in a string") }
            if b != UInt8(ascii: "\\") {
                out.append(b)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 2 <= bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("lone surrogate in a string")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("lone surrogate in a string") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("lone surrogate in a string")
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            default:
                throw fail("invalid escape in a string")
            }
        }
        throw fail("unterminated string")
    }

    /// The number at the cursor: `.integer` when it is one exactly (1.0 and 1e3 too), else `.number`.
    public mutating func number() throws(ParseError) -> JSONValue {
        let start = index
        let integral = try scanNumber()
        return try convert(start, integral: integral)
    }

    /// Reads past the number at the cursor with every check of `number()`; an integer of up to 300 digits (which
    /// no range check can refuse) is not converted.
    public mutating func skipNumber() throws(ParseError) {
        let start = index
        let integral = try scanNumber()
        if !integral || index - start > 300 { _ = try convert(start, integral: integral) }
    }

    /// Past the number's grammar; whether it has neither fraction nor exponent.
    @inline(__always)
    mutating func scanNumber() throws(ParseError) -> Bool {
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (48...57).contains(bytes[index]) else { throw fail("invalid number") }
        if bytes[index] == 48 {
            index += 1
        } else {
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        var integral = true
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard index < bytes.count, (48...57).contains(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            integral = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (48...57).contains(bytes[index]) else { throw fail("invalid number") }
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        return integral
    }

    /// The number scanned from `start` to the cursor.
    @inline(__always)
    func convert(_ start: Int, integral: Bool) throws(ParseError) -> JSONValue {
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if integral, let exact = Int64(text) { return .integer(exact) }
        guard let double = Double(text), double.isFinite else { throw fail("number out of range") }
        // 1.0 and 1e3 are integers in JSON's data model; keep them exact when they are.
        if double == double.rounded(), abs(double) < 9.0e15 { return .integer(Int64(double)) }
        return .number(double)
    }
}
