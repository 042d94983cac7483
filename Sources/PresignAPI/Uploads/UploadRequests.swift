import Foundation
import JSONKit
import S3Client

/// The checksum a multipart upload is created with; each part then carries its own, signed as a header.
public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
    case sha256 = "SHA256"
    case crc32 = "CRC32"
    case crc32c = "CRC32C"

    /// The header a part's checksum is signed as (never a query parameter).
    public var header: String {
        switch self {
        case .sha256: return "x-amz-checksum-sha256"
        case .crc32: return "x-amz-checksum-crc32"
        case .crc32c: return "x-amz-checksum-crc32c"
        }
    }

    /// Bytes in the decoded checksum.
    var size: Int { self == .sha256 ? 32 : 4 }

    func isValid(_ base64: String) -> Bool { Data(base64Encoded: base64)?.count == size }
}

/// The upload API's own limits and defaults; S3's part and object limits are S3Client's `MultipartLimits`.
public enum UploadLimits {
    /// Parts signed or completed per call.
    public static let partsPerCall = 100
    public static let defaultUploadLifetime: Int64 = 86_400
    public static let defaultPartURLLifetime: Int64 = 900
}

/// Shared field readers for the upload bodies: exact types, unknown fields refused, the field named in errors.
struct UploadFields {
    let members: [(String, JSONValue)]
    let path: String

    init(_ value: JSONValue, path: String, allowed: Set<String>) throws(APIError) {
        guard case .object(let members) = value else { throw .invalid(path.isEmpty ? "body" : path, "must be a JSON object") }
        self.members = members
        self.path = path
        for (name, _) in members where !allowed.contains(name) { throw .invalid(self.name(name), "unknown field") }
    }

    func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    func value(_ field: String) -> JSONValue? { members.first { $0.0 == field }?.1 }

    func string(_ field: String, max: Int, required: Bool = false) throws(APIError) -> String? {
        guard let value = value(field) else {
            if required { throw .invalid(name(field), "is required") }
            return nil
        }
        guard case .string(let text) = value else { throw .invalid(name(field), "must be a string") }
        guard text.utf8.count <= max || text.unicodeScalars.count <= max else { throw .invalid(name(field), "longer than \(max) characters") }
        return text
    }

    func integer(_ field: String, in range: ClosedRange<Int64>, required: Bool = false) throws(APIError) -> Int64? {
        guard let value = value(field) else {
            if required { throw .invalid(name(field), "is required") }
            return nil
        }
        guard case .integer(let number) = value else { throw .invalid(name(field), "must be an integer") }
        guard range.contains(number) else { throw .invalid(name(field), "must be \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    func list(_ field: String) throws(APIError) -> [JSONValue] {
        guard let value = value(field) else { throw .invalid(name(field), "is required") }
        guard case .array(let items) = value else { throw .invalid(name(field), "must be an array") }
        guard (1...UploadLimits.partsPerCall).contains(items.count) else {
            throw .invalid(name(field), "must hold 1 to \(UploadLimits.partsPerCall) parts (got \(items.count))")
        }
        return items
    }
}

/// `POST /v1/uploads`.
struct CreateUploadRequest: Equatable {
    var bucket: String
    var key: String
    var contentType: String?
    var contentLength: Int64?
    var checksumAlgorithm: ChecksumAlgorithm?
    var backend: String?
    var expiresIn: Int64?

    static func parse(_ value: JSONValue) throws(APIError) -> CreateUploadRequest {
        let fields = try UploadFields(
            value, path: "",
            allowed: ["bucket", "key", "content_type", "content_length", "checksum_algorithm", "backend", "expires_in"])
        var algorithm: ChecksumAlgorithm?
        if let name = try fields.string("checksum_algorithm", max: 16) {
            guard let known = ChecksumAlgorithm(rawValue: name) else {
                throw .invalid("checksum_algorithm", "must be SHA256, CRC32 or CRC32C")
            }
            algorithm = known
        }
        let bucket = try fields.string("bucket", max: 255, required: true)!
        guard !bucket.isEmpty else { throw .invalid("bucket", "is required") }
        return CreateUploadRequest(
            bucket: bucket, key: try fields.string("key", max: 1024, required: true)!,
            contentType: try fields.string("content_type", max: 256),
            contentLength: try fields.integer("content_length", in: 0...MultipartLimits.maxObjectSize),
            checksumAlgorithm: algorithm, backend: try fields.string("backend", max: 64),
            expiresIn: try fields.integer("expires_in", in: 1...31_536_000))
    }
}

/// `POST /v1/uploads/{upload}/parts`.
struct SignPartsRequest: Equatable {
    struct Part: Equatable {
        var number: Int
        var contentLength: Int64?
        var checksum: String?
    }

    var parts: [Part]
    var expiresIn: Int64?

    static func parse(_ value: JSONValue, algorithm: ChecksumAlgorithm?) throws(APIError) -> SignPartsRequest {
        let fields = try UploadFields(value, path: "", allowed: ["parts", "expires_in"])
        var parts: [Part] = []
        var seen: Set<Int> = []
        for (index, item) in try fields.list("parts").enumerated() {
            let part = try UploadFields(item, path: "parts[\(index)]", allowed: ["number", "content_length", "checksum"])
            let number = Int(try part.integer("number", in: 1...Int64(MultipartLimits.maxParts), required: true)!)
            guard seen.insert(number).inserted else { throw .invalid(part.name("number"), "part \(number) is listed twice") }
            let checksum = try part.string("checksum", max: 64)
            switch (algorithm, checksum) {
            case (nil, .some):
                throw .invalid(part.name("checksum"), "this upload was created without checksum_algorithm")
            case (.some(let algorithm), nil):
                throw .invalid(part.name("checksum"), "is required: the upload uses \(algorithm.rawValue)")
            case (.some(let algorithm), .some(let value)) where !algorithm.isValid(value):
                throw .invalid(part.name("checksum"), "must be base64 of a \(algorithm.size)-byte \(algorithm.rawValue)")
            default:
                break
            }
            parts.append(Part(
                number: number, contentLength: try part.integer("content_length", in: 0...MultipartLimits.maxPartSize),
                checksum: checksum))
        }
        return SignPartsRequest(parts: parts, expiresIn: try fields.integer("expires_in", in: 1...604_800))
    }
}

/// `POST /v1/uploads/{upload}/complete`.
struct CompleteUploadRequest: Equatable {
    struct Part: Equatable {
        var number: Int
        var etag: String
        var checksum: String?
    }

    /// In ascending part order.
    var parts: [Part]

    static func parse(_ value: JSONValue, algorithm: ChecksumAlgorithm?) throws(APIError) -> CompleteUploadRequest {
        let fields = try UploadFields(value, path: "", allowed: ["parts"])
        var parts: [Part] = []
        var seen: Set<Int> = []
        guard let listed = fields.value("parts") else { throw .invalid("parts", "is required") }
        guard case .array(let items) = listed else { throw .invalid("parts", "must be an array") }
        guard (1...MultipartLimits.maxParts).contains(items.count) else {
            throw .invalid("parts", "must hold 1 to \(MultipartLimits.maxParts) parts (got \(items.count))")
        }
        for (index, item) in items.enumerated() {
            let part = try UploadFields(item, path: "parts[\(index)]", allowed: ["number", "etag", "checksum"])
            let number = Int(try part.integer("number", in: 1...Int64(MultipartLimits.maxParts), required: true)!)
            guard seen.insert(number).inserted else { throw .invalid(part.name("number"), "part \(number) is listed twice") }
            let etag = try part.string("etag", max: 128, required: true)!
            guard !etag.isEmpty, etag.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "<") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: "&") }) else {
                throw .invalid(part.name("etag"), "must be the part's ETag as S3 returned it")
            }
            let checksum = try part.string("checksum", max: 64)
            if let checksum {
                guard let algorithm else { throw .invalid(part.name("checksum"), "this upload was created without checksum_algorithm") }
                guard algorithm.isValid(checksum) else {
                    throw .invalid(part.name("checksum"), "must be base64 of a \(algorithm.size)-byte \(algorithm.rawValue)")
                }
            }
            parts.append(Part(number: number, etag: etag, checksum: checksum))
        }
        parts.sort { $0.number < $1.number }
        return CompleteUploadRequest(parts: parts)
    }
}
