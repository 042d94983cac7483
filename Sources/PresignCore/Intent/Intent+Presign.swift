import Foundation
import JSONKit
import S3Signing

/// Decoding the body of `POST /v1/presign` (and each batch item, and `POST /v1/links`) into an `Intent`: every
/// field's type first, in the order sent, then what the capability takes. Unknown fields are refused, so typos
/// surface.
extension Intent {
    static func isPresignField(_ name: String) -> Bool {
        switch name {
        case "operation", "bucket", "key", "expires_in", "content_type", "content_length", "checksum_sha256", "content_md5",
            "response", "backend", "content_length_range", "content_type_prefix":
            return true
        default:
            return false
        }
    }
    static let linkFields: Set<String> = ["bucket", "key", "backend", "expires_in", "max_uses", "response"]
    public static let maxUses: ClosedRange<Int64> = 1...1_000_000

    public static let mediaTypeMessage = "must be one media type: type/subtype, then optional ;name=value parameters (RFC 9110)"
    public static let wildcardMessage = "must name one type, not a wildcard such as */* or image/*"

    /// A presign request's body: `operation` names a capability asked at `POST /v1/presign`.
    public static func presign(_ body: [UInt8]) throws(APIError) -> Intent { try presign(JSONMembers(body: body)) }

    /// A presign request, or batch item `fields.path` (`requests[3]`), its members read from the body's bytes.
    public static func presign(_ fields: JSONMembers) throws(APIError) -> Intent {
        try fields.check(isAllowed: isPresignField)
        return try decode(fields, capability: nil)
    }

    /// A share link's body: the bucket, key, backend and response overrides of a GET, its `expires_in` (up to a
    /// year) and `max_uses`.
    public static func link(_ body: [UInt8]) throws(APIError) -> Intent {
        let fields = try JSONMembers(body: body)
        try fields.check(allowed: linkFields)
        return try decode(fields, capability: .shareLink)
    }

    private static func decode(_ fields: JSONMembers, capability fixed: Capability?) throws(APIError) -> Intent {
        func name(_ field: String) -> String { fields.name(field) }
        var intent = Intent(capability: fixed ?? .sign(.get))
        var operation: String?
        var overrides: [String?]?
        var range: (Int64, Int64)?
        if fixed != nil, let uses = fields.offset("max_uses") {
            guard let number = try? fields.integer(at: uses, ""), maxUses.contains(number) else {
                throw .invalid(name("max_uses"), "must be an integer from 1 to \(maxUses.upperBound)")
            }
            intent.maxUses = number
        }
        for (member, key) in fields.names.enumerated() {
            let at = fields.offsets[member]
            switch key {
            case "operation": operation = try fields.string(member: member, name(key), max: 64)
            case "bucket": intent.bucket = try fields.string(member: member, name(key), max: 255)
            case "key": intent.key = try fields.string(member: member, name(key), max: 1024)
            case "expires_in": intent.lifetime = try fields.integer(at: at, name(key))
            case "content_type": intent.upload.contentType = try fields.string(member: member, name(key), max: 256)
            case "content_length": intent.upload.contentLength = try fields.integer(at: at, name(key))
            case "checksum_sha256": intent.upload.checksumSHA256 = try fields.string(member: member, name(key), max: 64)
            case "content_md5": intent.upload.contentMD5 = try fields.string(member: member, name(key), max: 32)
            case "backend": intent.backend = try fields.string(member: member, name(key), max: 64)
            case "content_type_prefix": intent.upload.contentTypePrefix = try fields.string(member: member, name(key), max: 256)
            case "max_uses": break
            case "response": overrides = try readResponse(fields, at: at)
            case "content_length_range": range = try readRange(fields, at: at)
            default:
                throw .invalid(name(key), "unknown field")
            }
        }
        if fixed == nil {
            guard let operation else { throw .invalid(name("operation"), "is required") }
            guard let capability = Capability(name: operation) else {
                throw .invalid(name("operation"), "unknown operation '\(operation)'")
            }
            guard capability.endpoint == .presign else {
                throw .invalid(name("operation"), "\(capability.name) is not a presigned URL: create a link with POST /v1/links")
            }
            intent.capability = capability
        }
        try intent.checkTarget(fields)
        if let expires = intent.lifetime, !(1...31_536_000).contains(expires) {
            throw .invalid(name("expires_in"), "must be 1...31536000 seconds (SigV4 allows at most 604800)")
        }
        try intent.checkUpload(fields, range: range)
        try intent.checkResponse(fields, overrides)
        return intent
    }

    /// The bucket and key the capability's scope needs, and nothing it does not.
    func checkTarget(_ fields: JSONMembers) throws(APIError) {
        func name(_ field: String) -> String { fields.name(field) }
        switch capability.scope {
        case .service:
            if bucket != nil { throw .invalid(name("bucket"), "not used by \(capability)") }
            if key != nil { throw .invalid(name("key"), "not used by \(capability)") }
        case .bucket:
            guard let bucket, !bucket.isEmpty else { throw .invalid(name("bucket"), "is required") }
            if key != nil { throw .invalid(name("key"), "not used by \(capability)") }
        case .object:
            guard let bucket, !bucket.isEmpty else { throw .invalid(name("bucket"), "is required") }
            guard key != nil else { throw .invalid(name("key"), "is required") }
        }
        if let bucket, !bucket.isEmpty, !Self.isBucketName(bucket) {
            throw .invalid(name("bucket"), "bucket names use letters, digits, '.', '-' and '_'")
        }
    }

    /// The bytes a bucket name may hold (S3 and the S3fm dialect); the signer checks the rest of its form.
    static func isBucketName(_ bucket: String) -> Bool {
        bucket.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D || b == 0x5F
        }
    }

    /// Content type, length, checksums: only where the capability stores a body, each in the form it takes.
    mutating func checkUpload(_ fields: JSONMembers, range: (Int64, Int64)?) throws(APIError) {
        func name(_ field: String) -> String { fields.name(field) }
        if upload.contentType != nil && !capability.storesBody && capability != .sign(.putACL) {
            throw .invalid(name("content_type"), "only for put and post_object (use response.content_type for downloads)")
        }
        if let type = upload.contentType { try Self.checkMediaType(type, field: name("content_type")) }
        if capability == .postForm {
            if upload.contentLength != nil { throw .invalid(name("content_length"), "post_object takes content_length_range") }
            if upload.checksumSHA256 != nil || upload.contentMD5 != nil {
                throw .invalid(name(upload.checksumSHA256 != nil ? "checksum_sha256" : "content_md5"), "not supported for post_object")
            }
            // S3 checks the key with starts-with on the text before ${filename}; text after it would look like a
            // condition but is not one.
            if let key, let prefix = PostPolicy.bytesBeforeFilename(key), key.utf8.count != prefix.utf8.count + 11 {
                throw .invalid(name("key"), "${filename} must end the key: a form is signed with starts-with on the text before it")
            }
            if let range {
                guard range.0 >= 0, range.0 <= range.1 else { throw .invalid(name("content_length_range"), "need 0 <= min <= max") }
                upload.lengthRange = range.0...range.1
            }
            if let prefix = upload.contentTypePrefix {
                guard prefix.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                    throw .invalid(name("content_type_prefix"), "must be printable ASCII")
                }
                if upload.contentType != nil {
                    throw .invalid(name("content_type_prefix"), "give content_type or content_type_prefix, not both")
                }
            }
            return
        }
        if range != nil { throw .invalid(name("content_length_range"), "only for post_object") }
        if upload.contentTypePrefix != nil { throw .invalid(name("content_type_prefix"), "only for post_object") }
        if let length = upload.contentLength {
            guard capability == .sign(.put) else { throw .invalid(name("content_length"), "only for put") }
            guard length >= 0, length <= 5 * 1024 * 1024 * 1024 else {
                throw .invalid(name("content_length"), "must be 0...5368709120 (S3's single PUT limit)")
            }
        }
        if let md5 = upload.contentMD5 {
            guard capability == .sign(.put) || capability == .sign(.putACL), Base64.decodedCount(md5) == 16 else {
                throw .invalid(name("content_md5"), "must be base64 of a 16-byte MD5, for put")
            }
        }
        if let sha = upload.checksumSHA256 {
            guard capability == .sign(.put), Base64.decodedCount(sha) == 32 else {
                throw .invalid(name("checksum_sha256"), "must be base64 of a 32-byte SHA-256, for put")
            }
        }
    }

    /// One media type, not a wildcard.
    static func checkMediaType(_ type: String, field: String) throws(APIError) {
        guard let media = MediaType(type) else { throw .invalid(field, mediaTypeMessage) }
        if media.isWildcard { throw .invalid(field, wildcardMessage) }
    }

    /// An RFC 9110 field value S3 will echo as a response header: visible ASCII with inner spaces and tabs.
    /// No CR, LF, NUL or other control characters (header injection), no bytes over 0x7E (obs-text, which clients
    /// read differently), and no space or tab at either end (a field value has none, and proxies trim them).
    public static func isHeaderValue(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first, let last = bytes.last else { return false }
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        return !isBlank(first) && !isBlank(last) && bytes.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
    }
}
