/// The byte-level pieces of reading XML text: names, whitespace, references and the decoding of kept text.
extension S3XML {
    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    static func isSpace(_ bytes: ArraySlice<UInt8>) -> Bool { bytes.allSatisfy(isSpace) }

    /// The ASCII subset of XML's NameStartChar (and every non-ASCII byte, as the name's UTF-8).
    static func isNameStart(_ byte: UInt8) -> Bool {
        byte >= 0x80 || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z")) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ":")
    }

    static func isNameByte(_ byte: UInt8) -> Bool {
        isNameStart(byte) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
            || byte == UInt8(ascii: ".")
    }

    /// Which bytes `isNameByte` accepts, by value.
    static let nameBytes: [Bool] = (0...255).map { isNameByte(UInt8($0)) }

    /// `s3:Key` → `Key`.
    static func localName(_ name: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        let colon = name.withUnsafeBufferPointer { bytes -> Int? in
            var index = bytes.count
            while index > 0 {
                index -= 1
                if bytes[index] == UInt8(ascii: ":") { return index }
            }
            return nil
        }
        guard let colon else { return name }
        return name[(name.startIndex + colon + 1)...]
    }

    /// A reference is at most this long, `&` and `;` included (`&#x10FFFF;` is 10; padding zeros beyond are refused).
    static let maxReferenceBytes = 12

    /// What the reference `name` (between `&` and `;`) stands for: one of the five predefined entities or a
    /// character reference to a character XML allows. Nil for anything else.
    static func referenceValue(_ name: ArraySlice<UInt8>) -> Unicode.Scalar? {
        switch String(decoding: name, as: UTF8.self) {
        case "lt": return "<"
        case "gt": return ">"
        case "amp": return "&"
        case "quot": return "\""
        case "apos": return "'"
        default: break
        }
        guard name.first == UInt8(ascii: "#") else { return nil }
        var digits = name.dropFirst()
        var radix: UInt32 = 10
        if digits.first == UInt8(ascii: "x") {
            radix = 16
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 8 else { return nil }
        var value: UInt32 = 0
        for byte in digits {
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
            value = value * radix + digit
        }
        // XML 1.0's Char: tab, newline, carriage return, and from space up, without surrogates, FFFE and FFFF.
        switch value {
        case 0x9, 0xA, 0xD, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: return Unicode.Scalar(value)
        default: return nil
        }
    }

    /// Appends the text `raw` stands for to `out`: references decoded (unless `cdata`), line ends normalized to
    /// `\n` (`afterCR` carries a `\r` that ended the previous piece). Control characters XML does not allow are
    /// refused. References were checked by the parser.
    static func decode(_ raw: ArraySlice<UInt8>, cdata: Bool, into out: inout [UInt8], afterCR: inout Bool) throws(ParseError) {
        var at = raw.startIndex
        while at < raw.endIndex {
            let byte = raw[at]
            at += 1
            switch byte {
            case UInt8(ascii: "&") where !cdata:
                guard let semicolon = raw[at...].firstIndex(of: UInt8(ascii: ";")), let scalar = referenceValue(raw[at..<semicolon]) else {
                    throw XMLPullParser.notWellFormed
                }
                UTF8.encode(scalar) { out.append($0) }
                at = semicolon + 1
                afterCR = false
            case 0x0D:
                out.append(0x0A)
                afterCR = true
            case 0x0A:
                if !afterCR { out.append(0x0A) }
                afterCR = false
            case 0x09:
                out.append(byte)
                afterCR = false
            case 0..<0x20: throw XMLPullParser.notWellFormed
            default:
                out.append(byte)
                afterCR = false
            }
        }
    }

    /// An attribute value as XML normalizes it: references decoded, each literal tab, newline or carriage return
    /// (a `\r\n` pair once) a space. Refused when it is not UTF-8 or has a control character.
    static func decode(attribute raw: ArraySlice<UInt8>) throws(ParseError) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(raw.count)
        var at = raw.startIndex
        while at < raw.endIndex {
            let byte = raw[at]
            at += 1
            switch byte {
            case UInt8(ascii: "&"):
                guard let semicolon = raw[at...].firstIndex(of: UInt8(ascii: ";")), let scalar = referenceValue(raw[at..<semicolon]) else {
                    throw XMLPullParser.notWellFormed
                }
                UTF8.encode(scalar) { bytes.append($0) }
                at = semicolon + 1
            case 0x0D:
                bytes.append(0x20)
                if at < raw.endIndex, raw[at] == 0x0A { at += 1 }
            case 0x09, 0x0A: bytes.append(0x20)
            case 0..<0x20: throw XMLPullParser.notWellFormed
            default: bytes.append(byte)
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw XMLPullParser.notWellFormed }
        return text
    }
}
