import JSONKit

/// The multipart upload documents: what CreateMultipartUpload, ListParts, CompleteMultipartUpload and
/// ListMultipartUploads answer, and the CompleteMultipartUpload request body. Everything read from the backend is
/// bounded: part numbers 1-10000, at most 10000 parts, sizes and markers parsed as plain decimal digits.
/// S3's documented limits (Amazon S3 User Guide, "Amazon S3 multipart upload limits"): parts of 5 MiB to 5 GiB (the
/// last may be smaller), at most 10,000 parts, objects up to 5 TiB.
public enum MultipartLimits {
    /// S3's highest part number, and the most parts one upload has.
    public static let maxParts = 10_000
    /// The smallest part S3 accepts, except the last one (5 MiB).
    public static let minPartSize: Int64 = 5 * 1024 * 1024
    /// The largest part S3 accepts (5 GiB). A listed part over it is a broken answer; it also keeps 10000 sizes
    /// summable.
    public static let maxPartSize: Int64 = 5 * 1024 * 1024 * 1024
    /// The largest object S3 stores (5 TiB), however many parts it is made of.
    public static let maxObjectSize: Int64 = 5 * 1024 * 1024 * 1024 * 1024
    /// The most uploads ListMultipartUploads is asked for (S3's own maximum page).
    public static let maxUploadsPage = 1_000
    /// Upload ids, ETags and checksums longer than this are refused: S3's are under 200 bytes.
    static let maxTokenBytes = 1024
}

/// `POST /bucket/key?uploads`.
public struct InitiateMultipartUploadResult: Sendable, Equatable, S3XMLDocument {
    public var bucket: String
    public var key: String
    public var uploadId: String

    public init(bucket: String, key: String, uploadId: String) {
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
    }

    static let schema = S3XML.Schema(["InitiateMultipartUploadResult": ["Bucket", "Key", "UploadId"]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "InitiateMultipartUploadResult")
        bucket = root.text("Bucket") ?? ""
        key = root.text("Key") ?? ""
        uploadId = try S3XML.token(root.text("UploadId"), "UploadId")
    }
}

/// One uploaded part as ListParts reports it. The ETag is as S3 sent it, quotes included.
public struct MultipartPart: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var size: Int64
    public var checksumSHA256: String?
    public var checksumCRC32: String?
    public var checksumCRC32C: String?

    public init(number: Int, etag: String, size: Int64, checksumSHA256: String? = nil, checksumCRC32: String? = nil,
                checksumCRC32C: String? = nil) {
        self.number = number
        self.etag = etag
        self.size = size
        self.checksumSHA256 = checksumSHA256
        self.checksumCRC32 = checksumCRC32
        self.checksumCRC32C = checksumCRC32C
    }
}

/// `GET /bucket/key?uploadId=…`: one page of parts, in ascending part number order; a part number uploaded again
/// before the complete may be listed once per version (SeaweedFS does), each with its own ETag and size.
public struct ListPartsResult: Sendable, Equatable, S3XMLDocument {
    public var bucket: String
    public var key: String
    public var uploadId: String
    /// The marker this page starts after (0 for the first page).
    public var partNumberMarker: Int
    public var nextPartNumberMarker: Int?
    public var maxParts: Int?
    public var isTruncated: Bool
    public var parts: [MultipartPart]

    static let schema = S3XML.Schema(["ListPartsResult": [
        "Bucket", "Key", "UploadId", "PartNumberMarker", "NextPartNumberMarker", "MaxParts", "IsTruncated",
    ] + ["PartNumber", "ETag", "Size", "ChecksumSHA256", "ChecksumCRC32", "ChecksumCRC32C"].map { "Part/\($0)" }])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "ListPartsResult")
        let max = Int64(MultipartLimits.maxParts)
        bucket = root.text("Bucket") ?? ""
        key = root.text("Key") ?? ""
        uploadId = root.text("UploadId") ?? ""
        // An empty marker element means "from the start".
        func marker(_ name: String) throws(S3XML.ParseError) -> Int? {
            guard let text = root.text(name), !text.isEmpty else { return nil }
            return Int(try S3XML.number(text, name, in: 0...max))
        }
        partNumberMarker = try marker("PartNumberMarker") ?? 0
        nextPartNumberMarker = try marker("NextPartNumberMarker")
        maxParts = try root.text("MaxParts").map { (text: String) throws(S3XML.ParseError) in Int(try S3XML.number(text, "MaxParts", in: 0...max)) }
        isTruncated = try S3XML.flag(root.text("IsTruncated"), "IsTruncated")
        let elements = root.children("Part")
        guard elements.count <= MultipartLimits.maxParts else {
            throw S3XML.ParseError(message: "\(elements.count) parts in one page; an upload has at most \(MultipartLimits.maxParts)")
        }
        parts = []
        parts.reserveCapacity(elements.count)
        for element in elements {
            let number = Int(try S3XML.number(element.text("PartNumber"), "PartNumber", in: 1...max))
            // A number may repeat: SeaweedFS lists every version of a retried part until the complete.
            if let previous = parts.last, previous.number > number {
                throw S3XML.ParseError(message: "part \(number) follows part \(previous.number): parts must ascend")
            }
            parts.append(MultipartPart(
                number: number, etag: try S3XML.token(element.text("ETag"), "ETag"),
                size: try S3XML.number(element.text("Size"), "Size", in: 0...MultipartLimits.maxPartSize),
                checksumSHA256: element.text("ChecksumSHA256"), checksumCRC32: element.text("ChecksumCRC32"),
                checksumCRC32C: element.text("ChecksumCRC32C")))
        }
    }

    /// Adds this page (read after `marker`) to `collected` and returns the marker of the next page, or nil when this
    /// was the last. Refuses a page that repeats or goes back over parts already read, a truncated page that is
    /// empty or whose next marker does not advance, and more than 10000 parts in all.
    public func append(to collected: inout [MultipartPart], after marker: Int) throws(S3Error) -> Int? {
        if let first = parts.first, first.number <= max(marker, collected.last?.number ?? 0) {
            throw .badResponse("ListParts after marker \(marker) answered part \(first.number) again")
        }
        guard collected.count + parts.count <= MultipartLimits.maxParts else {
            throw .badResponse("ListParts answered more than \(MultipartLimits.maxParts) parts")
        }
        collected += parts
        guard isTruncated else { return nil }
        guard let next = nextPartNumberMarker, next > marker, !parts.isEmpty else {
            throw .badResponse("ListParts is truncated after marker \(marker) but its NextPartNumberMarker does not advance")
        }
        return next
    }
}

/// A part named in CompleteMultipartUpload: its number, the ETag its UploadPart answered (quotes included) and,
/// when the upload has a checksum algorithm (`SHA256`, `CRC32` or `CRC32C`), that part's checksum (base64). Two
/// optional fields rather than one `(algorithm, value)?` tuple, which could not be Equatable by synthesis; a
/// checksum without its algorithm is refused, an algorithm without a checksum writes none.
public struct CompletedPart: Sendable, Equatable {
    public var number: Int
    public var etag: String
    public var checksumAlgorithm: String?
    public var checksum: String?

    public init(number: Int, etag: String, checksumAlgorithm: String? = nil, checksum: String? = nil) {
        self.number = number
        self.etag = etag
        self.checksumAlgorithm = checksumAlgorithm
        self.checksum = checksum
    }

    public static let checksumAlgorithms = ["SHA256", "CRC32", "CRC32C"]

    /// The CompleteMultipartUpload body: the parts in ascending order, every value escaped as XML text. Refuses
    /// (before sending) no parts or more than 10000, a number outside 1-10000 or given twice, an ETag that is empty,
    /// over 1024 bytes or not printable ASCII, and a checksum with another algorithm or a value that is not base64.
    public static func completeMultipartUpload(_ parts: [CompletedPart]) throws(S3Error) -> [UInt8] {
        guard (1...MultipartLimits.maxParts).contains(parts.count) else {
            throw .invalid("an upload is completed with 1 to \(MultipartLimits.maxParts) parts; got \(parts.count)")
        }
        let sorted = parts.sorted { $0.number < $1.number }
        var out = #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
        for (index, part) in sorted.enumerated() {
            guard (1...MultipartLimits.maxParts).contains(part.number) else {
                throw .invalid("part number \(part.number) is outside 1-\(MultipartLimits.maxParts)")
            }
            if index > 0, sorted[index - 1].number == part.number { throw .invalid("part \(part.number) is listed twice") }
            guard S3XML.isToken(part.etag), part.etag.utf8.allSatisfy({ $0 < 0x80 }) else {
                throw .invalid("part \(part.number): the ETag must be 1-\(MultipartLimits.maxTokenBytes) printable ASCII characters")
            }
            out += "<Part><PartNumber>\(part.number)</PartNumber><ETag>" + S3XML.escape(part.etag) + "</ETag>"
            if let checksum = part.checksum {
                guard let algorithm = part.checksumAlgorithm, checksumAlgorithms.contains(algorithm) else {
                    throw .invalid("part \(part.number): checksum algorithm '\(part.checksumAlgorithm ?? "")' is not SHA256, CRC32 or CRC32C")
                }
                guard (4...88).contains(checksum.utf8.count), Base64.decode(checksum) != nil else {
                    throw .invalid("part \(part.number): the checksum must be base64")
                }
                out += "<Checksum\(algorithm)>" + checksum + "</Checksum\(algorithm)>"
            }
            out += "</Part>"
        }
        return Array((out + "</CompleteMultipartUpload>").utf8)
    }
}

/// `POST /bucket/key?uploadId=…` answered 200.
public struct CompleteMultipartUploadResult: Sendable, Equatable, S3XMLDocument {
    public var bucket: String
    public var key: String
    /// The object's ETag as S3 sent it (quotes and `-N` suffix included).
    public var etag: String
    public var location: String?

    public init(bucket: String, key: String, etag: String, location: String? = nil) {
        self.bucket = bucket
        self.key = key
        self.etag = etag
        self.location = location
    }

    /// The result, or the `<Error>` S3 may send in its place after a 200.
    static let schema = S3XML.Schema([
        "CompleteMultipartUploadResult": ["Bucket", "Key", "ETag", "Location"], "Error": S3ErrorDocument.fields,
    ])

    /// The document with the whitespace S3 may send ahead of it (keep-alive bytes on a slow complete) allowed.
    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "CompleteMultipartUploadResult")
        bucket = root.text("Bucket") ?? ""
        key = root.text("Key") ?? ""
        etag = try S3XML.token(root.text("ETag"), "ETag")
        location = root.text("Location")
    }

    /// A 200's body: the result, or the failure S3 reports in it (an `<Error>` document sent after the 200 status,
    /// which S3 does when the complete fails late) as `.s3(status: 200, …)` with S3's code.
    public static func outcome(of body: [UInt8]) -> Result<CompleteMultipartUploadResult, S3Error> {
        outcome(Result { () throws(S3XML.ParseError) in try S3XML.read(body, schema) })
    }

    /// The same, from the document read as it arrived.
    static func outcome(_ read: Result<S3XML.Element, S3XML.ParseError>) -> Result<CompleteMultipartUploadResult, S3Error> {
        do throws(S3XML.ParseError) {
            let root = try read.get()
            if root.name == "Error" { return .failure(.s3(status: 200, document: try S3ErrorDocument(root: root))) }
            return .success(try CompleteMultipartUploadResult(root: root))
        } catch {
            return .failure(.badResponse(error.message))
        }
    }
}

/// One upload in progress, as ListMultipartUploads names it.
public struct MultipartUploadSummary: Sendable, Equatable {
    public var key: String
    public var uploadId: String

    public init(key: String, uploadId: String) {
        self.key = key
        self.uploadId = uploadId
    }
}

/// `GET /bucket?uploads`: one page of uploads in progress.
public struct ListMultipartUploadsResult: Sendable, Equatable, S3XMLDocument {
    public var bucket: String
    public var isTruncated: Bool
    public var uploads: [MultipartUploadSummary]

    static let schema = S3XML.Schema(["ListMultipartUploadsResult": ["Bucket", "IsTruncated", "Upload/Key", "Upload/UploadId"]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "ListMultipartUploadsResult")
        bucket = root.text("Bucket") ?? ""
        isTruncated = try S3XML.flag(root.text("IsTruncated"), "IsTruncated")
        let elements = root.children("Upload")
        guard elements.count <= MultipartLimits.maxUploadsPage else {
            throw S3XML.ParseError(message: "\(elements.count) uploads in one page; asked for at most \(MultipartLimits.maxUploadsPage)")
        }
        uploads = []
        for element in elements {
            uploads.append(MultipartUploadSummary(
                key: element.text("Key") ?? "", uploadId: try S3XML.token(element.text("UploadId"), "UploadId")))
        }
    }
}
