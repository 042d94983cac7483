import Crypto
import JSONKit

/// A share link's id: 24 bytes from the system CSPRNG (192 bits), written as exactly 32 base64url characters with
/// no padding. 24 bytes fill 32 characters with no spare bits, so every id has one spelling and no two spellings
/// name the same link. Stores keep only `digest` (SHA-256 of the raw bytes), so a copy of the database opens
/// nothing, and a lookup's time depends on the digest, not on how much of a real id a guess shares.
public struct LinkID: Sendable, Equatable {
    public static let byteCount = 24
    public static let textLength = 32

    /// The id as it appears in URLs.
    public let text: String
    /// SHA-256 of the 24 raw bytes: the key stores use.
    public let digest: [UInt8]

    /// The first 8 characters (48 bits): enough to find a link in the audit log, too little to use it.
    public var logPrefix: String { String(text.utf8.prefix(8).map { Character(Unicode.Scalar($0)) }) }

    /// A fresh id from `SystemRandomNumberGenerator` (getrandom(2) on Linux).
    public static func generate() -> LinkID {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in bytes.indices { bytes[index] = generator.next() }
        return LinkID(raw: bytes)
    }

    /// An id from its text, or nil unless it is exactly 32 base64url characters. Nothing else reaches a store.
    public init?(_ text: some StringProtocol) {
        var raw: [UInt8] = []
        raw.reserveCapacity(Self.byteCount)
        var count = 0
        var accumulator: UInt32 = 0
        for byte in text.utf8 {
            count += 1
            guard count <= Self.textLength, let value = Self.value(of: byte) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            if count % 4 == 0 {
                raw.append(UInt8(truncatingIfNeeded: accumulator >> 16))
                raw.append(UInt8(truncatingIfNeeded: accumulator >> 8))
                raw.append(UInt8(truncatingIfNeeded: accumulator))
                accumulator = 0
            }
        }
        guard count == Self.textLength else { return nil }
        self.init(raw: raw)
    }

    init(raw: [UInt8]) {
        precondition(raw.count == Self.byteCount)
        var out: [UInt8] = []
        out.reserveCapacity(Self.textLength)
        var index = 0
        while index < raw.count {
            let n = UInt32(raw[index]) << 16 | UInt32(raw[index + 1]) << 8 | UInt32(raw[index + 2])
            for shift in [18, 12, 6, 0] { out.append(Self.alphabet[Int(n >> UInt32(shift) & 63)]) }
            index += 3
        }
        text = String(decoding: out, as: UTF8.self)
        digest = Array(SHA256.hash(data: raw))
    }

    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func value(of byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte - UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return byte - UInt8(ascii: "a") + 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0") + 52
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        default: return nil
        }
    }
}
