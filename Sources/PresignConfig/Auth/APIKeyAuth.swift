import Crypto
import Foundation
import JSONKit
import JWTKit

/// API keys: only their SHA-256 digests are configured; a presented key is hashed and compared in constant time.
public enum APIKeyAuth {
    public static func digest(_ key: String) -> [UInt8] {
        var key = key
        return key.withUTF8 { bytes in SHA256.hash(data: UnsafeRawBufferPointer(bytes)).withUnsafeBytes { Array($0) } }
    }

    public static func digestHex(_ key: String) -> String {
        var out: [UInt8] = []
        for byte in digest(key) { ASCII.appendHex(byte, to: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    static func parseDigest(_ hex: String) -> [UInt8]? {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < 64 {
            guard let h = ASCII.hexValue(bytes[i]), let l = ASCII.hexValue(bytes[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }

    /// The first item whose digest equals `digest`. Every item is compared, each in constant time, so the time
    /// taken says nothing about which one (or how much of one) matched. The one comparison loop for caller API keys
    /// and admin tokens.
    public static func firstMatch<Item>(of digest: [UInt8], in items: [Item], digestOf: (Item) -> [UInt8]?) -> Item? {
        var found: Item?
        for item in items {
            if let expected = digestOf(item), constantTimeEquals(expected, digest), found == nil { found = item }
        }
        return found
    }

    /// Constant time for equal lengths (digests always are).
    public static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
