import Foundation
import S3Signing

/// An API error before it becomes a response: status, code, message and (for 400) the field at fault.
public struct APIError: Error, Equatable, Sendable {
    public let status: Int
    public let code: String
    public let message: String
    public let field: String?
    public var headers: [String: String] = [:]

    public init(status: Int, code: String, message: String, field: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(status: 400, code: "InvalidRequest", message: "\(field): \(message)", field: field)
    }
}

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
    public var response: [String: String]
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

    static let fields: Set<String> = [
        "operation", "bucket", "key", "expires_in", "content_type", "content_length", "checksum_sha256", "content_md5",
        "response", "backend", "content_length_range", "content_type_prefix",
    ]

    /// Parses one request object; `path` prefixes field names in errors (`requests[3].key`).
    static func parse(_ object: Any, path: String = "") throws(APIError) -> PresignRequest {
        func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }
        guard let map = object as? [String: Any] else { throw .invalid(path.isEmpty ? "body" : path, "must be a JSON object") }
        for key in map.keys.sorted() where !fields.contains(key) { throw .invalid(name(key), "unknown field") }

        func string(_ field: String, max: Int = 1024) throws(APIError) -> String? {
            guard let value = map[field] else { return nil }
            guard let text = value as? String else { throw .invalid(name(field), "must be a string") }
            // Counted in code points, as JSON Schema's maxLength does.
            guard text.unicodeScalars.count <= max else { throw .invalid(name(field), "longer than \(max) characters") }
            return text
        }
        func integer(_ field: String) throws(APIError) -> Int64? {
            guard let value = map[field] else { return nil }
            guard let exact = JSONValues.integer(value) else { throw .invalid(name(field), "must be an integer") }
            return exact
        }

        guard let operation = try string("operation", max: 64) else { throw .invalid(name("operation"), "is required") }
        var request = PresignRequest(
            operation: operation, bucket: try string("bucket", max: 255), key: try string("key"),
            expiresIn: try integer("expires_in"), contentType: try string("content_type", max: 256),
            contentLength: try integer("content_length"), checksumSHA256: try string("checksum_sha256", max: 64),
            contentMD5: try string("content_md5", max: 32), response: [:], backend: try string("backend", max: 64),
            contentLengthRange: nil, contentTypePrefix: try string("content_type_prefix", max: 256))
        if let value = map["response"] {
            guard let overrides = value as? [String: Any] else { throw .invalid(name("response"), "must be an object") }
            let known = Set(responseFields.map(\.json))
            for key in overrides.keys.sorted() {
                guard known.contains(key) else { throw .invalid(name("response.\(key)"), "unknown field") }
                guard let text = overrides[key] as? String, text.unicodeScalars.count <= 1024 else {
                    throw .invalid(name("response.\(key)"), "must be a string of at most 1024 characters")
                }
                request.response[key] = text
            }
        }
        if let value = map["content_length_range"] {
            guard let pair = value as? [Any], pair.count == 2,
                let low = JSONValues.integer(pair[0]), let high = JSONValues.integer(pair[1]), low >= 0, high >= 0
            else { throw .invalid(name("content_length_range"), "must be [min, max], integers of at least 0") }
            request.contentLengthRange = [low, high]
        }
        return request
    }
}

/// What a request turns into once its fields are checked against the operation (before policy).
struct CheckedRequest {
    var operation: S3Operation?
    var isPost: Bool
    var bucket: String?
    var key: String?
    var headers: [(name: String, value: String)]
    var query: [(name: String, value: String)]
    var lengthRange: (min: Int64, max: Int64)?

    static func check(_ request: PresignRequest, path: String) throws(APIError) -> CheckedRequest {
        func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }
        let isPost = request.operation == "post_object"
        let operation = S3Operation(rawValue: request.operation)
        guard isPost || operation != nil else {
            throw .invalid(name("operation"), "unknown operation '\(request.operation)'")
        }
        let scope: S3Operation.Scope = isPost ? .object : operation!.scope
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
        if let expires = request.expiresIn, !(1...31_536_000).contains(expires) {
            throw .invalid(name("expires_in"), "must be 1...31536000 seconds (SigV4 allows at most 604800)")
        }
        let uploads = request.operation == "put" || isPost
        if request.contentType != nil && !uploads && operation != .putACL {
            throw .invalid(name("content_type"), "only for put and post_object (use response.content_type for downloads)")
        }
        if let type = request.contentType {
            guard !type.isEmpty, type.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
                throw .invalid(name("content_type"), "must be printable ASCII")
            }
        }
        var headers: [(name: String, value: String)] = []
        var lengthRange: (min: Int64, max: Int64)?
        if isPost {
            if request.contentLength != nil { throw .invalid(name("content_length"), "post_object takes content_length_range") }
            if request.checksumSHA256 != nil || request.contentMD5 != nil {
                throw .invalid(name(request.checksumSHA256 != nil ? "checksum_sha256" : "content_md5"), "not supported for post_object")
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
                guard request.operation == "put" else { throw .invalid(name("content_length"), "only for put") }
                guard length >= 0, length <= 5 * 1024 * 1024 * 1024 else {
                    throw .invalid(name("content_length"), "must be 0...5368709120 (S3's single PUT limit)")
                }
                headers.append(("Content-Length", String(length)))
            }
            if let md5 = request.contentMD5 {
                guard request.operation == "put" || request.operation == "put_acl", Data(base64Encoded: md5)?.count == 16 else {
                    throw .invalid(name("content_md5"), "must be base64 of a 16-byte MD5, for put")
                }
                headers.append(("Content-MD5", md5))
            }
            if let sha = request.checksumSHA256 {
                guard request.operation == "put", Data(base64Encoded: sha)?.count == 32 else {
                    throw .invalid(name("checksum_sha256"), "must be base64 of a 32-byte SHA-256, for put")
                }
                headers.append(("x-amz-checksum-sha256", sha))
            }
        }
        var query: [(name: String, value: String)] = []
        if !request.response.isEmpty {
            guard request.operation == "get" || request.operation == "head" else {
                throw .invalid(name("response"), "response overrides are only for get and head")
            }
            for field in PresignRequest.responseFields {
                if let value = request.response[field.json] { query.append((field.query, value)) }
            }
        }
        return CheckedRequest(
            operation: operation, isPost: isPost, bucket: request.bucket, key: request.key, headers: headers,
            query: query, lengthRange: lengthRange)
    }
}
