import JSONKit

/// The one decoded form of anything a caller asks presignd to sign, share or upload: the capability, its target,
/// the limits of an upload, response overrides and the lifetime. `POST /v1/presign`, each batch item, `POST
/// /v1/links` and `POST /v1/uploads` decode into it (`Intent+Decode`), once, with errors naming the field path;
/// the policy engine turns it into a `Grant` or a denial; signers read only the grant.
public struct Intent: Sendable, Equatable {
    public var capability: Capability
    /// The backend named by the request (nil: the only one configured).
    public var backend: String?
    public var bucket: String?
    /// The object key; for a POST form, possibly ending in `${filename}`.
    public var key: String?
    /// `expires_in`; nil: the capability's default under the cap.
    public var lifetime: Int64?
    public var upload = UploadLimits()
    /// `response-*` overrides for a GET, HEAD or share link, in the order S3's query names them.
    public var response: [ResponseOverride] = []
    /// A share link's `max_uses`.
    public var maxUses: Int64?

    public init(capability: Capability, backend: String? = nil, bucket: String? = nil, key: String? = nil, lifetime: Int64? = nil) {
        self.capability = capability
        self.backend = backend
        self.bucket = bucket
        self.key = key
        self.lifetime = lifetime
    }

    /// What an upload is held to: its type, its length or length range, its checksum.
    public struct UploadLimits: Sendable, Equatable {
        public var contentType: String?
        /// POST forms only: a `starts-with` condition on Content-Type.
        public var contentTypePrefix: String?
        public var contentLength: Int64?
        /// POST forms only: `content-length-range`.
        public var lengthRange: ClosedRange<Int64>?
        public var checksumSHA256: String?
        public var contentMD5: String?
        /// A multipart upload (`POST /v1/uploads`): its size is held on each signed part and on the total at
        /// complete, so a length is not required up front, and SigV2 backends may take part.
        public var multipart = false
        /// A multipart upload's checksum (`SHA256`, `CRC32`, `CRC32C`).
        public var checksumAlgorithm: ChecksumAlgorithm?

        public init() {}
    }

    /// One `response-*` override: the API's field name, S3's query name, the value.
    public struct ResponseOverride: Sendable, Equatable {
        public let field: String
        public let query: String
        public let value: String
    }

    /// The response overrides S3 takes, by API field and query name, in query order.
    public static let responseFields: [(json: String, query: String)] = [
        ("content_disposition", "response-content-disposition"),
        ("content_type", "response-content-type"),
        ("cache_control", "response-cache-control"),
        ("content_language", "response-content-language"),
        ("content_encoding", "response-content-encoding"),
        ("expires", "response-expires"),
    ]

    /// Overrides kept by field name (a share link's record), in query order; unknown names are left out.
    public static func responseOverrides(_ byField: [String: String]) -> [ResponseOverride] {
        responseFields.compactMap { field in byField[field.json].map { ResponseOverride(field: field.json, query: field.query, value: $0) } }
    }

    /// `response.content_type`, which the rule's content types hold.
    public var responseContentType: String? { response.first { $0.field == "content_type" }?.value }
}

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
    public var size: Int { self == .sha256 ? 32 : 4 }

    public func isValid(_ base64: String) -> Bool { Base64.decodedCount(base64) == size }
}
