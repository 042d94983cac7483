import JSONKit
import PresignCore
import S3Client

/// The upload API's own limits and defaults; S3's part and object limits are S3Client's `MultipartLimits`.
public enum UploadLimits {
    /// Parts signed or completed per call.
    public static let partsPerCall = 100
    public static let defaultPartURLLifetime: Int64 = 900
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
        let fields = try JSONFields(value, path: "", allowed: ["parts", "expires_in"])
        var parts: [Part] = []
        var seen: Set<Int> = []
        for (index, item) in try fields.list("parts", maxCount: UploadLimits.partsPerCall, noun: "parts").enumerated() {
            let part = try JSONFields(item, path: "parts[\(index)]", allowed: ["number", "content_length", "checksum"])
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
        let fields = try JSONFields(value, path: "", allowed: ["parts"])
        var parts: [Part] = []
        var seen: Set<Int> = []
        guard let listed = fields.value("parts") else { throw .invalid("parts", "is required") }
        guard case .array(let items) = listed else { throw .invalid("parts", "must be an array") }
        guard (1...MultipartLimits.maxParts).contains(items.count) else {
            throw .invalid("parts", "must hold 1 to \(MultipartLimits.maxParts) parts (got \(items.count))")
        }
        for (index, item) in items.enumerated() {
            let part = try JSONFields(item, path: "parts[\(index)]", allowed: ["number", "etag", "checksum"])
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
