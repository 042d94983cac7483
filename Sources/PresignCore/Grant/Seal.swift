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
        var mac = HMAC<SHA256>(key: SymmetricKey(data: secret))
        mac.update(data: domain)
        mac.update(data: Array(text.utf8))
        return text + "." + Base64.encode(Array(mac.finalize()), .url)
    }

    /// The payload when the MAC is right; nil for anything else (malformed, tampered, another key or domain).
    /// Says nothing about which: callers answer every failure the same way.
    public func open(_ token: String, with secret: [UInt8]) -> [UInt8]? {
        var token = token
        return token.withUTF8 { bytes -> [UInt8]? in
            // The MAC is checked over the token's own bytes: nothing is copied before it holds.
            guard bytes.count <= maxLength, let dot = bytes.firstIndex(of: UInt8(ascii: ".")) else { return nil }
            let payload = UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<dot]))
            guard let mac = Base64.decode(buffer: UnsafeBufferPointer(rebasing: bytes[(dot + 1)...]), .url), mac.count == 32 else { return nil }
            var expected = HMAC<SHA256>(key: SymmetricKey(data: secret))
            expected.update(data: domain)
            expected.update(data: payload)
            // `==` between a MAC and bytes compares in constant time.
            guard expected.finalize() == mac else { return nil }
            return Base64.decode(buffer: UnsafeBufferPointer(rebasing: bytes[..<dot]), .url)
        }
    }
}
