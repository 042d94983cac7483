import JSONKit
import S3Signing

/// Decoding `POST /v1/uploads` into an `Intent`: a multipart upload under the caller's `put` rules.
extension Intent {
    static let uploadFields: Set<String> = ["bucket", "key", "content_type", "content_length", "checksum_algorithm", "backend", "expires_in"]

    /// What a multipart upload's `content_length` may declare: S3's largest object, 5 TiB (S3Client's
    /// `MultipartLimits.maxObjectSize`; a test holds the two equal).
    public static let maxUploadLength: Int64 = 5 * 1024 * 1024 * 1024 * 1024

    public static func upload(_ body: [UInt8]) throws(APIError) -> Intent {
        let fields = try JSONMembers(body: body)
        try fields.check(allowed: uploadFields)
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
            guard let media = MediaType(type), !media.isWildcard else { throw .invalid("content_type", mediaTypeMessage) }
        }
        intent.upload.contentLength = try fields.integer("content_length", in: 0...maxUploadLength)
        intent.backend = try fields.string("backend", max: 64)
        intent.lifetime = try fields.integer("expires_in", in: 1...31_536_000)
        return intent
    }
}
