import JSONKit
/// RFC 3986 percent-encoding as S3 and SigV4 require it: every byte except the unreserved set
/// `A-Z a-z 0-9 - . _ ~` is written as `%XX` with upper-case hex. A space is always `%20`, never `+`.
public enum PercentEncoding {
    @inlinable @inline(__always)
    static func upperHexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x37 + nibble }

    @inlinable @inline(__always)
    static func lowerHexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    @inlinable
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Appends the encoding of `string` to `out`. When `keepSlash` is true, `/` is kept as is (object key paths).
    @inlinable
    public static func append(_ string: some StringProtocol, keepSlash: Bool = false, to out: inout [UInt8]) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            append(encoding: bytes, keepSlash: keepSlash, to: &out)
        }
        if done != nil { return }
        for byte in string.utf8 {
            if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(upperHexDigit(byte >> 4))
                out.append(upperHexDigit(byte & 0x0F))
            }
        }
    }

    /// `bytes` encoded into a scratch buffer on the stack and appended once: a byte at a time, each append checked
    /// the array's capacity and uniqueness.
    @usableFromInline
    static func append(encoding bytes: UnsafeBufferPointer<UInt8>, keepSlash: Bool, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 3) { scratch in
            var end = 0
            for byte in bytes {
                if isUnreserved(byte) || (keepSlash && byte == UInt8(ascii: "/")) {
                    scratch[end] = byte
                    end += 1
                } else {
                    scratch[end] = UInt8(ascii: "%")
                    scratch[end + 1] = upperHexDigit(byte >> 4)
                    scratch[end + 2] = upperHexDigit(byte & 0x0F)
                    end += 3
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[..<end]))
        }
    }

    /// Lower-case hex of raw bytes (a digest's), written on the stack and appended once.
    public static func appendHex(raw bytes: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count * 2) { scratch in
            for (index, byte) in bytes.enumerated() {
                scratch[2 * index] = lowerHexDigit(byte >> 4)
                scratch[2 * index + 1] = lowerHexDigit(byte & 0x0F)
            }
            out.append(contentsOf: UnsafeBufferPointer(scratch))
        }
    }

    /// The RFC 3986 encoding of `string`.
    public static func encode(_ string: some StringProtocol, keepSlash: Bool = false) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(string.utf8.count * 3)
        append(string, keepSlash: keepSlash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes `%XX` escapes. With `plusAsSpace`, `+` becomes a space (form encoding).
    /// Returns nil for a malformed escape or bytes that are not UTF-8.
    public static func decode(_ string: some StringProtocol, plusAsSpace: Bool = false) -> String? {
        ASCII.percentDecode(string, plusAsSpace: plusAsSpace)
    }

    /// Lower-case hex of a digest, as SigV4 writes hashes and signatures.
    @inlinable
    public static func appendHex(_ bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        for byte in bytes {
            out.append(lowerHexDigit(byte >> 4))
            out.append(lowerHexDigit(byte & 0x0F))
        }
    }


    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        appendHex(bytes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
