import Crypto
import Foundation
import JSONKit

/// The opaque `upload` handle of a multipart upload: what it was created for, sealed with HMAC-SHA256 under the
/// config's upload-token key. It binds the caller, the JWT subject, the backend, bucket, key, S3 upload id,
/// checksum algorithm, content type, declared length and its own expiry, so an upload id cannot be carried to
/// another caller, object or backend. Pure: no clock; the caller compares `expiresAt` with its own time.
///
/// Form: `base64url(payload JSON) "." base64url(HMAC-SHA256(key, "presignd-upload-v1." + payload))`.
public struct UploadToken: Sendable, Equatable {
    public var caller: String
    public var subject: String?
    public var backend: String
    public var bucket: String
    public var key: String
    public var uploadId: String
    public var checksumAlgorithm: String?
    public var contentType: String?
    public var contentLength: Int64?
    /// Seconds since the epoch.
    public var expiresAt: Int64

    public init(
        caller: String, subject: String?, backend: String, bucket: String, key: String, uploadId: String,
        checksumAlgorithm: String?, contentType: String?, contentLength: Int64?, expiresAt: Int64
    ) {
        self.caller = caller
        self.subject = subject
        self.backend = backend
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
        self.checksumAlgorithm = checksumAlgorithm
        self.contentType = contentType
        self.contentLength = contentLength
        self.expiresAt = expiresAt
    }

    static let domain = Array("presignd-upload-v1.".utf8)
    /// Far above any real token (a 1024-byte key and a long upload id), far below the head limit.
    public static let maxLength = 8192

    public func sealed(with secret: [UInt8]) -> String {
        var json = JSONWriter(capacity: 256)
        json.beginObject()
        json.string("c", caller)
        if let subject { json.string("s", subject) }
        json.string("b", backend)
        json.string("k", bucket)
        json.string("o", self.key)
        json.string("u", uploadId)
        if let checksumAlgorithm { json.string("a", checksumAlgorithm) }
        if let contentType { json.string("t", contentType) }
        if let contentLength { json.integer("l", contentLength) }
        json.integer("e", expiresAt)
        json.endObject()
        let payload = Self.base64URL(json.bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Self.domain + Array(payload.utf8), using: SymmetricKey(data: secret))
        return payload + "." + Self.base64URL(Array(mac))
    }

    /// The token's fields when its MAC is right; nil for anything else (malformed, tampered, another key). Says
    /// nothing about which: callers answer every failure the same way.
    public static func open(_ token: String, with key: [UInt8]) -> UploadToken? {
        guard token.utf8.count <= maxLength, let dot = token.utf8.firstIndex(of: UInt8(ascii: ".")) else { return nil }
        let payload = Array(token.utf8[..<dot])
        guard let mac = decodeBase64URL(Array(token.utf8[token.utf8.index(after: dot)...])), mac.count == 32 else { return nil }
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: domain + payload, using: SymmetricKey(data: key)) else {
            return nil
        }
        // Parsed once; a payload that is not an object has none of the fields below and fails there.
        guard let json = decodeBase64URL(payload), let value = try? JSONValue.parse(json), case .object = value
        else { return nil }
        func string(_ name: String) -> String? { if case .string(let text)? = value[name] { text } else { nil } }
        func integer(_ name: String) -> Int64? { if case .integer(let number)? = value[name] { number } else { nil } }
        guard let caller = string("c"), let backend = string("b"), let bucket = string("k"), let objectKey = string("o"),
            let uploadId = string("u"), let expiresAt = integer("e")
        else { return nil }
        return UploadToken(
            caller: caller, subject: string("s"), backend: backend, bucket: bucket, key: objectKey, uploadId: uploadId,
            checksumAlgorithm: string("a"), contentType: string("t"), contentLength: integer("l"), expiresAt: expiresAt)
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
