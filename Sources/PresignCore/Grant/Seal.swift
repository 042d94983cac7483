import Crypto
import Foundation
import JSONKit

/// The one sealing scheme: a payload made opaque and tamper-evident under a server secret, for handles a client
/// carries between requests (an upload handle now, an upload receipt next). Each use has its own domain, so a
/// token sealed for one use never opens as another.
///
/// Form: `base64url(payload) "." base64url(HMAC-SHA256(secret, domain + base64url(payload)))`, canonical base64url
/// only (no padding, no spare bits), at most `maxLength` bytes.
public struct Seal: Sendable {
    public let domain: [UInt8]
    public let maxLength: Int

    public init(domain: String, maxLength: Int = 8192) {
        self.domain = Array(domain.utf8)
        self.maxLength = maxLength
    }

    public func seal(_ payload: [UInt8], with secret: [UInt8]) -> String {
        let text = Self.base64URL(payload)
        let mac = HMAC<SHA256>.authenticationCode(for: domain + Array(text.utf8), using: SymmetricKey(data: secret))
        return text + "." + Self.base64URL(Array(mac))
    }

    /// The payload when the MAC is right; nil for anything else (malformed, tampered, another key or domain).
    /// Says nothing about which: callers answer every failure the same way.
    public func open(_ token: String, with secret: [UInt8]) -> [UInt8]? {
        guard token.utf8.count <= maxLength, let dot = token.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let payload = Array(token.utf8[..<dot])
        guard let mac = Self.decodeBase64URL(Array(token.utf8[token.utf8.index(after: dot)...])), mac.count == 32 else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: domain + payload, using: SymmetricKey(data: secret)) else {
            return nil
        }
        return Self.decodeBase64URL(payload)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    static func decodeBase64URL(_ bytes: [UInt8]) -> [UInt8]? {
        guard bytes.allSatisfy({ ASCII.isBase64URLByte($0) }) else { return nil }
        var text = String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.utf8.count % 4 != 0 { text += "=" }
        guard let decoded = Data(base64Encoded: text).map(Array.init) else { return nil }
        // Only the canonical spelling: the decoder ignores the unused low bits of the last character, so without
        // this check one token had four spellings (found by the exhaustive tamper test).
        guard Array(base64URL(decoded).utf8) == bytes else { return nil }
        return decoded
    }
}
