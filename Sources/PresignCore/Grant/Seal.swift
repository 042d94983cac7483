import Crypto
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
        let text = Base64.encode(payload, .url)
        let mac = HMAC<SHA256>.authenticationCode(for: domain + Array(text.utf8), using: SymmetricKey(data: secret))
        return text + "." + Base64.encode(Array(mac), .url)
    }

    /// The payload when the MAC is right; nil for anything else (malformed, tampered, another key or domain).
    /// Says nothing about which: callers answer every failure the same way.
    public func open(_ token: String, with secret: [UInt8]) -> [UInt8]? {
        guard token.utf8.count <= maxLength, let dot = token.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let payload = Array(token.utf8[..<dot])
        guard let mac = Base64.decode(bytes: token.utf8[token.utf8.index(after: dot)...], .url), mac.count == 32 else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: domain + payload, using: SymmetricKey(data: secret)) else {
            return nil
        }
        return Base64.decode(bytes: payload, .url)
    }
}
