import PresignConfig
import JSONKit
import Foundation
import S3Signing

/// The body of `POST /v1/presign` (and each item of a batch). Unknown fields are refused, so typos surface.
public struct PresignRequest: Sendable, Equatable {
    public var operation: String
    public var bucket: String?
    public var key: String?
    public var expiresIn: Int64?
    public var contentType: String?
    public var contentLength: Int64?
    public var checksumSHA256: String?
    public var contentMD5: String?
    public var response: [String: String]?
    public var backend: String?
    public var contentLengthRange: [Int64]?
    public var contentTypePrefix: String?

    static let responseFields: [(json: String, query: String)] = [
        ("content_disposition", "response-content-disposition"),
        ("content_type", "response-content-type"),
        ("cache_control", "response-cache-control"),
        ("content_language", "response-content-language"),
        ("content_encoding", "response-content-encoding"),
        ("expires", "response-expires"),
    ]

    static let fieldNames: Set<String> = [
        "operation", "bucket", "key", "expires_in", "content_type", "content_length", "checksum_sha256", "content_md5",
        "response", "backend", "content_length_range", "content_type_prefix",
    ]

    /// Parses one request object; `path` prefixes field names in errors (`requests[3].key`).
    static func parse(_ value: JSONValue, path: String = "") throws(APIError) -> PresignRequest {
        func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }
        guard case .object(let members) = value else { throw .invalid(path.isEmpty ? "body" : path, "must be a JSON object") }
        for (key, _) in members where !fieldNames.contains(key) { throw .invalid(name(key), "unknown field") }
        var request = PresignRequest(
            operation: "", bucket: nil, key: nil, expiresIn: nil, contentType: nil, contentLength: nil,
            checksumSHA256: nil, contentMD5: nil, response: nil, backend: nil, contentLengthRange: nil,
            contentTypePrefix: nil)
        func string(_ value: JSONValue, _ field: String, max: Int) throws(APIError) -> String {
            guard case .string(let text) = value else { throw .invalid(name(field), "must be a string") }
            // Counted in code points, as JSON Schema's maxLength does.
            guard text.utf8.count <= max || text.unicodeScalars.count <= max else {
                throw .invalid(name(field), "longer than \(max) characters")
            }
            return text
        }
        func integer(_ value: JSONValue, _ field: String) throws(APIError) -> Int64 {
            guard case .integer(let number) = value else { throw .invalid(name(field), "must be an integer") }
            return number
        }
        var sawOperation = false
        for (key, value) in members {
            switch key {
            case "operation":
                request.operation = try string(value, key, max: 64)
                sawOperation = true
            case "bucket": request.bucket = try string(value, key, max: 255)
            case "key": request.key = try string(value, key, max: 1024)
            case "expires_in": request.expiresIn = try integer(value, key)
            case "content_type": request.contentType = try string(value, key, max: 256)
            case "content_length": request.contentLength = try integer(value, key)
            case "checksum_sha256": request.checksumSHA256 = try string(value, key, max: 64)
            case "content_md5": request.contentMD5 = try string(value, key, max: 32)
            case "backend": request.backend = try string(value, key, max: 64)
            case "content_type_prefix": request.contentTypePrefix = try string(value, key, max: 256)
            case "response":
                guard case .object(let overrides) = value else { throw .invalid(name("response"), "must be an object") }
                var out: [String: String] = [:]
                let known = Set(responseFields.map(\.json))
                for (field, text) in overrides {
                    guard known.contains(field) else { throw .invalid(name("response.\(field)"), "unknown field") }
                    out[field] = try string(text, "response.\(field)", max: 1024)
                }
                request.response = out
            case "content_length_range":
                guard case .array(let pair) = value, pair.count == 2, case .integer(let low) = pair[0],
                    case .integer(let high) = pair[1], low >= 0, high >= 0
                else { throw .invalid(name("content_length_range"), "must be [min, max], integers of at least 0") }
                request.contentLengthRange = [low, high]
            default:
                throw .invalid(name(key), "unknown field")
            }
        }
        guard sawOperation else { throw .invalid(name("operation"), "is required") }
        return request
    }
}

/// What a request turns into once its fields are checked against the operation (before policy).
struct CheckedRequest {
    var operation: PresignOperation
    var isPost: Bool { operation == .postObject }
    var bucket: String?
    var key: String?
    var headers: [(name: String, value: String)]
    var query: [(name: String, value: String)]
    var lengthRange: (min: Int64, max: Int64)?

    static let mediaTypeMessage = "must be one media type: type/subtype, then optional ;name=value parameters (RFC 9110)"
    static let wildcardMessage = "must name one type, not a wildcard such as */* or image/*"

    /// An RFC 9110 field value S3 will echo as a response header: visible ASCII with inner spaces and tabs.
    /// No CR, LF, NUL or other control characters (header injection), no bytes over 0x7E (obs-text, which clients
    /// read differently), and no space or tab at either end (a field value has none, and proxies trim them).
    static func isHeaderValue(_ value: String) -> Bool {
        let bytes = value.utf8
        guard let first = bytes.first, let last = bytes.last else { return false }
        func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }
        return !isBlank(first) && !isBlank(last) && bytes.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
    }

    static func check(_ request: PresignRequest, path: String) throws(APIError) -> CheckedRequest {
        func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }
        guard let operation = PresignOperation(name: request.operation) else {
            throw .invalid(name("operation"), "unknown operation '\(request.operation)'")
        }
        if operation == .shareLink {
            throw .invalid(name("operation"), "share_link is not a presigned URL: create a link with POST /v1/links")
        }
        let isPost = operation == .postObject
        let scope = operation.scope
        switch scope {
        case .service:
            if request.bucket != nil { throw .invalid(name("bucket"), "not used by \(request.operation)") }
            if request.key != nil { throw .invalid(name("key"), "not used by \(request.operation)") }
        case .bucket:
            guard let bucket = request.bucket, !bucket.isEmpty else { throw .invalid(name("bucket"), "is required") }
            if request.key != nil { throw .invalid(name("key"), "not used by \(request.operation)") }
        case .object:
            guard let bucket = request.bucket, !bucket.isEmpty else { throw .invalid(name("bucket"), "is required") }
            guard request.key != nil else { throw .invalid(name("key"), "is required") }
        }
        if let bucket = request.bucket, !bucket.isEmpty {
            let allowed = bucket.utf8.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x2D || b == 0x5F
            }
            guard allowed else { throw .invalid(name("bucket"), "bucket names use letters, digits, '.', '-' and '_'") }
        }
        if let expires = request.expiresIn, !(1...31_536_000).contains(expires) {
            throw .invalid(name("expires_in"), "must be 1...31536000 seconds (SigV4 allows at most 604800)")
        }
        let uploads = operation.storesBody
        if request.contentType != nil && !uploads && operation != .s3(.putACL) {
            throw .invalid(name("content_type"), "only for put and post_object (use response.content_type for downloads)")
        }
        if let type = request.contentType {
            guard let media = MediaType(type) else { throw .invalid(name("content_type"), Self.mediaTypeMessage) }
            if media.isWildcard { throw .invalid(name("content_type"), Self.wildcardMessage) }
        }
        var headers: [(name: String, value: String)] = []
        var lengthRange: (min: Int64, max: Int64)?
        if isPost {
            if request.contentLength != nil { throw .invalid(name("content_length"), "post_object takes content_length_range") }
            if request.checksumSHA256 != nil || request.contentMD5 != nil {
                throw .invalid(name(request.checksumSHA256 != nil ? "checksum_sha256" : "content_md5"), "not supported for post_object")
            }
            // S3 checks the key with starts-with on the text before ${filename}; text after it would look like a
            // condition but is not one.
            if let key = request.key, let prefix = PolicyEngine.filenamePrefix(key), key.utf8.count != prefix.utf8.count + 11 {
                throw .invalid(name("key"), "${filename} must end the key: a form is signed with starts-with on the text before it")
            }
            if let range = request.contentLengthRange {
                guard range[0] >= 0, range[0] <= range[1] else {
                    throw .invalid(name("content_length_range"), "need 0 <= min <= max")
                }
                lengthRange = (range[0], range[1])
            }
            if let prefix = request.contentTypePrefix {
                guard prefix.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                    throw .invalid(name("content_type_prefix"), "must be printable ASCII")
                }
                if request.contentType != nil {
                    throw .invalid(name("content_type_prefix"), "give content_type or content_type_prefix, not both")
                }
            }
        } else {
            if request.contentLengthRange != nil { throw .invalid(name("content_length_range"), "only for post_object") }
            if request.contentTypePrefix != nil { throw .invalid(name("content_type_prefix"), "only for post_object") }
            if let type = request.contentType { headers.append(("Content-Type", type)) }
            if let length = request.contentLength {
                guard operation == .s3(.put) else { throw .invalid(name("content_length"), "only for put") }
                guard length >= 0, length <= 5 * 1024 * 1024 * 1024 else {
                    throw .invalid(name("content_length"), "must be 0...5368709120 (S3's single PUT limit)")
                }
                headers.append(("Content-Length", String(length)))
            }
            if let md5 = request.contentMD5 {
                guard operation == .s3(.put) || operation == .s3(.putACL), Data(base64Encoded: md5)?.count == 16 else {
                    throw .invalid(name("content_md5"), "must be base64 of a 16-byte MD5, for put")
                }
                headers.append(("Content-MD5", md5))
            }
            if let sha = request.checksumSHA256 {
                guard operation == .s3(.put), Data(base64Encoded: sha)?.count == 32 else {
                    throw .invalid(name("checksum_sha256"), "must be base64 of a 32-byte SHA-256, for put")
                }
                headers.append(("x-amz-checksum-sha256", sha))
            }
        }
        var query: [(name: String, value: String)] = []
        if let overrides = request.response {
            guard operation == .s3(.get) || operation == .s3(.head) else {
                throw .invalid(name("response"), "response overrides are only for get and head")
            }
            for field in PresignRequest.responseFields {
                guard let value = overrides[field.json] else { continue }
                guard Self.isHeaderValue(value) else {
                    throw .invalid(name("response.\(field.json)"), "must be a header value: visible ASCII, spaces and tabs, not starting or ending with a space or tab")
                }
                if field.json == "content_type" {
                    guard let media = MediaType(value) else { throw .invalid(name("response.content_type"), Self.mediaTypeMessage) }
                    if media.isWildcard { throw .invalid(name("response.content_type"), Self.wildcardMessage) }
                }
                query.append((field.query, value))
            }
        }
        return CheckedRequest(
            operation: operation, bucket: request.bucket, key: request.key, headers: headers,
            query: query, lengthRange: lengthRange)
    }
}
