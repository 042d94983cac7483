import JSONKit
import S3Signing

/// The opaque `upload` handle of a multipart upload: its grant, sealed (`Seal`, domain `presignd-upload-v1.`)
/// under the config's upload-token key. It binds the caller, the JWT subject, the backend, bucket, key, S3 upload
/// id, checksum algorithm, content type, declared length and its own expiry, so an upload id cannot be carried to
/// another caller, object or backend. Pure: no clock; the caller compares `expiresAt` with its own time.
public struct UploadToken: Sendable, Equatable {
    public var caller: String
    public var subject: String?
    public var backend: String
    public var bucket: String
    public var key: String
    public var uploadId: String
    public var checksumAlgorithm: ChecksumAlgorithm?
    public var contentType: String?
    public var contentLength: Int64?
    /// Seconds since the epoch.
    public var expiresAt: Int64

    public init(
        caller: String, subject: String?, backend: String, bucket: String, key: String, uploadId: String,
        checksumAlgorithm: ChecksumAlgorithm?, contentType: String?, contentLength: Int64?, expiresAt: Int64
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

    /// The handle of an upload `grant` allowed and S3 created as `uploadId`.
    public init(_ grant: Grant, uploadId: String, expiresAt: Int64) {
        self.init(
            caller: grant.caller, subject: grant.subject, backend: grant.backend, bucket: grant.bucket ?? "", key: grant.key ?? "",
            uploadId: uploadId, checksumAlgorithm: grant.upload.checksumAlgorithm, contentType: grant.upload.contentType,
            contentLength: grant.upload.contentLength, expiresAt: expiresAt)
    }

    /// What the handle was granted for, to be decided again under today's config at each call.
    public var intent: Intent {
        var intent = Intent(capability: .sign(.put), backend: backend, bucket: bucket, key: key)
        intent.upload.multipart = true
        intent.upload.contentType = contentType
        intent.upload.contentLength = contentLength
        intent.upload.checksumAlgorithm = checksumAlgorithm
        return intent
    }

    static let seal = Seal(domain: "presignd-upload-v1.", maxLength: maxLength)
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
        if let checksumAlgorithm { json.string("a", checksumAlgorithm.rawValue) }
        if let contentType { json.string("t", contentType) }
        if let contentLength { json.integer("l", contentLength) }
        json.integer("e", expiresAt)
        json.endObject()
        return Self.seal.seal(json.bytes, with: secret)
    }

    /// The token's fields when its MAC is right; nil for anything else (malformed, tampered, another key). Says
    /// nothing about which: callers answer every failure the same way.
    public static func open(_ token: String, with key: [UInt8]) -> UploadToken? {
        // Parsed once; a payload that is not an object has none of the fields below and fails there.
        guard let json = seal.open(token, with: key), let value = try? JSONValue.parse(json), case .object = value else { return nil }
        func string(_ name: String) -> String? { if case .string(let text)? = value[name] { text } else { nil } }
        func integer(_ name: String) -> Int64? { if case .integer(let number)? = value[name] { number } else { nil } }
        guard let caller = string("c"), let backend = string("b"), let bucket = string("k"), let objectKey = string("o"),
            let uploadId = string("u"), let expiresAt = integer("e")
        else { return nil }
        // An algorithm this server does not know is a token it did not seal.
        var algorithm: ChecksumAlgorithm?
        if let name = string("a") {
            guard let known = ChecksumAlgorithm(rawValue: name) else { return nil }
            algorithm = known
        }
        return UploadToken(
            caller: caller, subject: string("s"), backend: backend, bucket: bucket, key: objectKey, uploadId: uploadId,
            checksumAlgorithm: algorithm, contentType: string("t"), contentLength: integer("l"), expiresAt: expiresAt)
    }
}
