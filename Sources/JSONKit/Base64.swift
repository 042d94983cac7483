/// RFC 4648 base64: the standard alphabet with padding (§4: SigV2 signatures, POST policies, Content-MD5 and
/// checksums) and base64url without padding (§5: JWTs, share-link ids, upload tokens). The only codec in presignd.
///
/// Decoding is strict, so that every byte string has exactly one accepted spelling (a token or id that could be
/// spelled several ways could be replayed under another name, and a checksum compared as text could differ):
/// - only the alphabet's 64 characters, and no whitespace or line breaks anywhere;
/// - standard: a length that is a multiple of 4, with exactly the `=` needed (one or two) and only at the end;
/// - url: no `=` at all, and no length of the form 4n + 1 (which no byte string encodes to);
/// - the unused low bits of the last character are zero (RFC 4648 §3.5's canonical encoding).
public enum Base64 {
    public enum Alphabet: Sendable {
        /// `+` and `/`, padded with `=`.
        case standard
        /// `-` and `_`, no padding.
        case url
    }

    /// The encoding's length in characters.
    public static func encodedLength(_ count: Int, _ alphabet: Alphabet) -> Int {
        alphabet == .standard ? (count + 2) / 3 * 4 : (count * 4 + 2) / 3
    }

    /// `bytes` encoded, written straight into the string's storage (one allocation).
    public static func encode(_ bytes: some Collection<UInt8>, _ alphabet: Alphabet = .standard) -> String {
        if let text = bytes.withContiguousStorageIfAvailable({ encode(buffer: $0, alphabet) }) { return text }
        return Array(bytes).withUnsafeBufferPointer { encode(buffer: $0, alphabet) }
    }

    /// `encode` over contiguous bytes: the one implementation, compiled here rather than specialized (or not) at
    /// each caller in another module.
    public static func encode(buffer bytes: UnsafeBufferPointer<UInt8>, _ alphabet: Alphabet = .standard) -> String {
        let length = encodedLength(bytes.count, alphabet)
        return String(unsafeUninitializedCapacity: length) { out in
            write(bytes, alphabet, into: out)
            return length
        }
    }

    /// Appends the encoding of `bytes` to `out`.
    public static func append(_ bytes: some Collection<UInt8>, _ alphabet: Alphabet = .standard, to out: inout [UInt8]) {
        let length = encodedLength(bytes.count, alphabet)
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: length))
        out.withUnsafeMutableBufferPointer { buffer in
            _ = write(bytes, alphabet, into: UnsafeMutableBufferPointer(rebasing: buffer[start...]))
        }
    }

    @discardableResult
    static func write(_ bytes: some Collection<UInt8>, _ alphabet: Alphabet, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let table = alphabet == .standard ? standardTable : urlTable
        var index = 0
        func put(_ value: UInt32) {
            out[index] = table[Int(value & 63)]
            index += 1
        }
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next()
            let c = b == nil ? nil : iterator.next()
            let n = UInt32(a) << 16 | UInt32(b ?? 0) << 8 | UInt32(c ?? 0)
            put(n >> 18)
            put(n >> 12)
            if b != nil { put(n >> 6) } else if alphabet == .standard { out[index] = UInt8(ascii: "="); index += 1 }
            if c != nil { put(n) } else if alphabet == .standard { out[index] = UInt8(ascii: "="); index += 1 }
        }
        return index
    }

    /// The bytes `text` encodes, or nil unless it is the one canonical spelling in `alphabet` (see above).
    public static func decode(_ text: some StringProtocol, _ alphabet: Alphabet = .standard) -> [UInt8]? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ decode(buffer: $0, alphabet) }) { return result }
        return Array(text.utf8).withUnsafeBufferPointer { decode(buffer: $0, alphabet) }
    }

    /// `decode` over bytes.
    public static func decode(bytes text: some BidirectionalCollection<UInt8>, _ alphabet: Alphabet = .standard) -> [UInt8]? {
        if let result = text.withContiguousStorageIfAvailable({ decode(buffer: $0, alphabet) }) { return result }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0, alphabet) }
    }

    /// `decode` over contiguous bytes: the one implementation (see `encode(buffer:)`).
    public static func decode(buffer text: UnsafeBufferPointer<UInt8>, _ alphabet: Alphabet = .standard) -> [UInt8]? {
        guard let characters = dataCharacters(text, alphabet) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(characters * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in text.prefix(characters) {
            let value = alphabet == .standard ? standardValues[Int(byte)] : urlValues[Int(byte)]
            guard value < 64 else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        guard accumulator == 0 else { return nil }  // non-zero unused bits: not the canonical spelling
        return out
    }

    /// How many bytes `text` encodes, or nil unless it is the one canonical spelling (every rule of `decode`),
    /// without building them: a checksum's or Content-MD5's length is checked in place.
    public static func decodedCount(_ text: some StringProtocol, _ alphabet: Alphabet = .standard) -> Int? {
        if let result = text.utf8.withContiguousStorageIfAvailable({ decodedCount(buffer: $0, alphabet) }) { return result }
        return Array(text.utf8).withUnsafeBufferPointer { decodedCount(buffer: $0, alphabet) }
    }

    /// `decodedCount` over contiguous bytes.
    public static func decodedCount(buffer text: UnsafeBufferPointer<UInt8>, _ alphabet: Alphabet = .standard) -> Int? {
        guard let characters = dataCharacters(text, alphabet) else { return nil }
        let values = alphabet == .standard ? standardValues : urlValues
        var last: UInt8 = 0
        for byte in text.prefix(characters) {
            last = values[Int(byte)]
            guard last < 64 else { return nil }
        }
        // The last character's unused low bits (4 after 2 characters of a group, 2 after 3) are zero.
        switch characters % 4 {
        case 2: return last & 0x0F == 0 ? characters / 4 * 3 + 1 : nil
        case 3: return last & 0x03 == 0 ? characters / 4 * 3 + 2 : nil
        default: return characters / 4 * 3
        }
    }

    /// The characters before the padding, or nil for a length no canonical spelling has.
    static func dataCharacters(_ text: UnsafeBufferPointer<UInt8>, _ alphabet: Alphabet) -> Int? {
        var characters = text.count
        if alphabet == .standard {
            guard characters % 4 == 0 else { return nil }
            var padding = 0
            for byte in text.reversed().prefix(2) where byte == UInt8(ascii: "=") { padding += 1 }
            // A '=' anywhere but in the padding ("QQ=I", "Q=I=") is left in the data and fails the alphabet check.
            characters -= padding
        }
        guard characters % 4 != 1 else { return nil }
        return characters
    }

    static let standardTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    static let urlTable: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    /// Each byte's 6-bit value, or 0xFF for a byte outside the alphabet.
    static let standardValues = values(standardTable)
    static let urlValues = values(urlTable)

    static func values(_ table: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0xFF, count: 256)
        for (value, byte) in table.enumerated() { out[Int(byte)] = UInt8(value) }
        return out
    }
}
