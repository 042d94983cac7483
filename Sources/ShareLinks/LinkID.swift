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
    public var logPrefix: String { String(decoding: text.utf8.prefix(8), as: UTF8.self) }

    /// A fresh id from `SystemRandomNumberGenerator` (getrandom(2) on Linux).
    public static func generate() -> LinkID {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: byteCount)
        for index in bytes.indices { bytes[index] = generator.next() }
        return LinkID(raw: bytes)
    }

    /// An id from its text, or nil unless it is exactly 32 base64url characters. Nothing else reaches a store.
    public init?(_ text: some StringProtocol) {
        guard text.utf8.count == Self.textLength, let raw = Base64.decode(text, .url), raw.count == Self.byteCount else { return nil }
        // The decoder accepts only the canonical spelling, so the text is the one `init(raw:)` would write.
        self.text = String(text)
        digest = Array(SHA256.hash(data: raw))
    }

    init(raw: [UInt8]) {
        precondition(raw.count == Self.byteCount)
        text = Base64.encode(raw, .url)
        digest = Array(SHA256.hash(data: raw))
    }
}
