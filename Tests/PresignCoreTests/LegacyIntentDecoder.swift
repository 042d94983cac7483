import JSONKit
@testable import PresignCore
import S3Signing

/// The reference for `IntentBytesDifferentialTests`: the intent decoders as they stood before they read bytes
/// (commit 5b19fa9: a `JSONValue` tree, then `JSONFields`), kept only here. The checks after the members (target,
/// upload, lifetime) are shared with the decoder under test; the member walk, the response overrides, the batch
/// shape and the upload's fixed order are the old code.
enum LegacyIntentDecoder {
    static func parse(_ body: [UInt8]) throws(APIError) -> JSONValue {
        do throws(JSONValue.ParseError) { return try JSONValue.parse(body) } catch { throw .invalid("body", "not valid JSON (\(error.message))") }
    }

    /// A `JSONMembers` that only names fields under `path` (the shared checks take one for that).
    static func names(_ path: String) -> JSONMembers {
        var reader = JSONReader(Array("{}".utf8))
        return try! JSONMembers(reading: &reader, depth: 0, path: path)
    }

    static func presign(_ body: [UInt8]) throws(APIError) -> Intent { try presign(try parse(body), path: "") }

    static func presign(_ value: JSONValue, path: String) throws(APIError) -> Intent {
        try decode(try JSONFields(value, path: path, isAllowed: Intent.isPresignField), capability: nil)
    }

    static func link(_ body: [UInt8]) throws(APIError) -> Intent {
        try decode(try JSONFields(try parse(body), path: "", allowed: Intent.linkFields), capability: .shareLink)
    }

    static func batch(_ body: [UInt8]) throws(APIError) -> [Intent] {
        let object = try parse(body)
        guard case .object(let members) = object, members.count == 1, case .array(let list)? = object["requests"] else {
            throw .invalid("requests", "the body must be {\"requests\": [...]}")
        }
        guard (1...100).contains(list.count) else { throw .invalid("requests", "must hold 1 to 100 requests (got \(list.count))") }
        var items: [Intent] = []
        for (index, item) in list.enumerated() { items.append(try presign(item, path: "requests[\(index)]")) }
        return items
    }

    static func upload(_ body: [UInt8]) throws(APIError) -> Intent {
        let fields = try JSONFields(try parse(body), path: "", allowed: Intent.uploadFields)
        var algorithm: ChecksumAlgorithm?
        if let name = try fields.string("checksum_algorithm", max: 16) {
            guard let known = ChecksumAlgorithm(rawValue: name) else { throw .invalid("checksum_algorithm", "must be SHA256, CRC32 or CRC32C") }
            algorithm = known
        }
        let bucket = try fields.string("bucket", max: 255, required: true)!
        guard !bucket.isEmpty else { throw .invalid("bucket", "is required") }
        var intent = Intent(capability: .sign(.put), bucket: bucket, key: try fields.string("key", max: 1024, required: true)!)
        intent.upload.multipart = true
        intent.upload.checksumAlgorithm = algorithm
        intent.upload.contentType = try fields.string("content_type", max: 256)
        if let type = intent.upload.contentType {
            guard let media = MediaType(type), !media.isWildcard else { throw .invalid("content_type", Intent.mediaTypeMessage) }
        }
        intent.upload.contentLength = try fields.integer("content_length", in: 0...Intent.maxUploadLength)
        intent.backend = try fields.string("backend", max: 64)
        intent.lifetime = try fields.integer("expires_in", in: 1...31_536_000)
        return intent
    }

    private static func decode(_ fields: JSONFields, capability fixed: Capability?) throws(APIError) -> Intent {
        func name(_ field: String) -> String { fields.name(field) }
        var intent = Intent(capability: fixed ?? .sign(.get))
        var operation: String?
        var rawResponse: [(String, JSONValue)]?
        var range: (Int64, Int64)?
        if fixed != nil, let uses = fields.value("max_uses") {
            guard case .integer(let number) = uses, Intent.maxUses.contains(number) else {
                throw .invalid(name("max_uses"), "must be an integer from 1 to \(Intent.maxUses.upperBound)")
            }
            intent.maxUses = number
        }
        for (key, value) in fields.members {
            switch key {
            case "operation": operation = try JSONFields.string(value, name(key), max: 64)
            case "bucket": intent.bucket = try JSONFields.string(value, name(key), max: 255)
            case "key": intent.key = try JSONFields.string(value, name(key), max: 1024)
            case "expires_in": intent.lifetime = try JSONFields.integer(value, name(key))
            case "content_type": intent.upload.contentType = try JSONFields.string(value, name(key), max: 256)
            case "content_length": intent.upload.contentLength = try JSONFields.integer(value, name(key))
            case "checksum_sha256": intent.upload.checksumSHA256 = try JSONFields.string(value, name(key), max: 64)
            case "content_md5": intent.upload.contentMD5 = try JSONFields.string(value, name(key), max: 32)
            case "backend": intent.backend = try JSONFields.string(value, name(key), max: 64)
            case "content_type_prefix": intent.upload.contentTypePrefix = try JSONFields.string(value, name(key), max: 256)
            case "max_uses": break
            case "response":
                guard case .object(let overrides) = value else { throw .invalid(name("response"), "must be an object") }
                for (field, text) in overrides {
                    guard Intent.responseFields.contains(where: { $0.json == field }) else { throw .invalid(name("response.\(field)"), "unknown field") }
                    _ = try JSONFields.string(text, name("response.\(field)"), max: 1024)
                }
                rawResponse = overrides
            case "content_length_range":
                guard case .array(let pair) = value, pair.count == 2, case .integer(let low) = pair[0],
                    case .integer(let high) = pair[1], low >= 0, high >= 0
                else { throw .invalid(name("content_length_range"), "must be [min, max], integers of at least 0") }
                range = (low, high)
            default:
                throw .invalid(name(key), "unknown field")
            }
        }
        if fixed == nil {
            guard let operation else { throw .invalid(name("operation"), "is required") }
            guard let capability = Capability(name: operation) else { throw .invalid(name("operation"), "unknown operation '\(operation)'") }
            guard capability.endpoint == .presign else {
                throw .invalid(name("operation"), "\(capability.name) is not a presigned URL: create a link with POST /v1/links")
            }
            intent.capability = capability
        }
        let names = Self.names(fields.path)
        try intent.checkTarget(names)
        if let expires = intent.lifetime, !(1...31_536_000).contains(expires) {
            throw .invalid(name("expires_in"), "must be 1...31536000 seconds (SigV4 allows at most 604800)")
        }
        try intent.checkUpload(names, range: range)
        guard let overrides = rawResponse else { return intent }
        guard intent.capability == .sign(.get) || intent.capability == .sign(.head) || intent.capability == .shareLink else {
            throw .invalid(name("response"), "response overrides are only for get and head")
        }
        for field in Intent.responseFields {
            guard case .string(let value)? = overrides.last(where: { $0.0 == field.json })?.1 else { continue }
            guard Intent.isHeaderValue(value) else {
                throw .invalid(name("response.\(field.json)"), "must be a header value: visible ASCII, spaces and tabs, not starting or ending with a space or tab")
            }
            if field.json == "content_type" { try Intent.checkMediaType(value, field: name("response.content_type")) }
            intent.response.append(Intent.ResponseOverride(field: field.json, query: field.query, value: value))
        }
        return intent
    }
}
