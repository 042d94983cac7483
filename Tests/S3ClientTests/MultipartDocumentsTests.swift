import S3Client
import Testing

/// The multipart documents as SeaweedFS 4.48 sends them (captured from a live server) and as AWS documents them,
/// and the CompleteMultipartUpload body byte for byte.
struct MultipartDocumentsTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
    static let uploadId = "1029234bb281789ab1d3f76bc5b4831a658b7067_1e8ae3e13b074061a4c1af5e08f2eb44"

    @Test func initiateFromSeaweedFS() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<InitiateMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>mpprobe</Bucket><Key>cap/a.bin</Key><UploadId>1029234bb281789ab1d3f76bc5b4831a658b7067_1e8ae3e13b074061a4c1af5e08f2eb44</UploadId></InitiateMultipartUploadResult>"#
        #expect(try InitiateMultipartUploadResult(xml: Self.bytes(xml))
            == InitiateMultipartUploadResult(bucket: "mpprobe", key: "cap/a.bin", uploadId: Self.uploadId))
    }

    @Test func initiateWithoutAnUploadIdIsRefused() {
        #expect(throws: S3XML.ParseError(message: "<UploadId> is missing, empty, over 1024 bytes or has control characters")) {
            try InitiateMultipartUploadResult(xml: Self.bytes("<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId></UploadId></InitiateMultipartUploadResult>"))
        }
    }

    /// SeaweedFS's first page of three parts with max-parts=2: ETags as `&#34;` entities, read back with quotes.
    @Test func listPartsFirstPage() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>mpprobe</Bucket><IsTruncated>true</IsTruncated><Key>cap/a.bin</Key><MaxParts>2</MaxParts><NextPartNumberMarker>2</NextPartNumberMarker><PartNumberMarker>0</PartNumberMarker><Part><ETag>&#34;08b46181d7094b5ece88bb389c7499af&#34;</ETag><LastModified>2026-11-29T18:07:34Z</LastModified><PartNumber>1</PartNumber><Size>5242880</Size></Part><Part><ETag>&#34;d76f89e449720d99d4b92c79040f4882&#34;</ETag><LastModified>2026-11-29T18:07:34Z</LastModified><PartNumber>2</PartNumber><Size>5242880</Size></Part><StorageClass>STANDARD</StorageClass><UploadId>1029234bb281789ab1d3f76bc5b4831a658b7067_1e8ae3e13b074061a4c1af5e08f2eb44</UploadId></ListPartsResult>"#
        let page = try ListPartsResult(xml: Self.bytes(xml))
        #expect(page.bucket == "mpprobe" && page.key == "cap/a.bin" && page.uploadId == Self.uploadId)
        #expect(page.isTruncated && page.partNumberMarker == 0 && page.nextPartNumberMarker == 2 && page.maxParts == 2)
        #expect(page.parts == [
            MultipartPart(number: 1, etag: "\"08b46181d7094b5ece88bb389c7499af\"", size: 5_242_880),
            MultipartPart(number: 2, etag: "\"d76f89e449720d99d4b92c79040f4882\"", size: 5_242_880),
        ])
        var collected: [MultipartPart] = []
        #expect(try page.append(to: &collected, after: 0) == 2)
        #expect(collected.map(\.number) == [1, 2])
    }

    @Test func listPartsLastPageWithChecksums() throws {
        // AWS's shape: checksums per part, an empty NextPartNumberMarker-free last page.
        let xml = #"<ListPartsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>b</Bucket><Key>k</Key><UploadId>u</UploadId><PartNumberMarker>2</PartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated><ChecksumAlgorithm>SHA256</ChecksumAlgorithm><Part><PartNumber>3</PartNumber><LastModified>2026-11-29T18:07:34.000Z</LastModified><ETag>"193d16844d1be50b489aa50379030d08"</ETag><Size>1000</Size><ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></Part><Part><PartNumber>4</PartNumber><ETag>"e"</ETag><Size>0</Size><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part></ListPartsResult>"#
        let page = try ListPartsResult(xml: Self.bytes(xml))
        #expect(!page.isTruncated && page.partNumberMarker == 2 && page.nextPartNumberMarker == nil)
        #expect(page.parts == [
            MultipartPart(number: 3, etag: "\"193d16844d1be50b489aa50379030d08\"", size: 1000,
                          checksumSHA256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
            MultipartPart(number: 4, etag: "\"e\"", size: 0, checksumCRC32: "AAAAAA==", checksumCRC32C: "AAAAAA=="),
        ])
        var collected = [MultipartPart(number: 1, etag: "\"a\"", size: 5), MultipartPart(number: 2, etag: "\"b\"", size: 5)]
        #expect(try page.append(to: &collected, after: 2) == nil)
        #expect(collected.map(\.number) == [1, 2, 3, 4])
    }

    static func listParts(truncated: Bool, marker: String = "0", next: String? = nil, parts: [String]) -> [UInt8] {
        var xml = "<ListPartsResult><IsTruncated>\(truncated)</IsTruncated><PartNumberMarker>\(marker)</PartNumberMarker>"
        if let next { xml += "<NextPartNumberMarker>\(next)</NextPartNumberMarker>" }
        for part in parts { xml += "<Part><PartNumber>\(part)</PartNumber><ETag>\"x\"</ETag><Size>1</Size></Part>" }
        return bytes(xml + "</ListPartsResult>")
    }

    @Test(arguments: [
        ("+1", "<PartNumber> '+1' is not a number in 1...10000"), (" 1", "<PartNumber> ' 1' is not a number in 1...10000"),
        ("0", "<PartNumber> '0' is not a number in 1...10000"), ("10001", "<PartNumber> '10001' is not a number in 1...10000"),
        ("1e3", "<PartNumber> '1e3' is not a number in 1...10000"), ("", "<PartNumber> '' is not a number in 1...10000"),
        ("99999999999999999999", "<PartNumber> '99999999999999999999' is not a number in 1...10000"),
    ])
    func partNumbersAreParsedStrictly(_ number: String, _ message: String) {
        #expect(throws: S3XML.ParseError(message: message)) { try ListPartsResult(xml: Self.listParts(truncated: false, parts: [number])) }
    }

    @Test func otherBrokenPagesAreRefused() {
        #expect(throws: S3XML.ParseError(message: "part 2 follows part 3: parts must ascend")) {
            try ListPartsResult(xml: Self.listParts(truncated: false, parts: ["3", "2"]))
        }
        #expect(throws: S3XML.ParseError(message: "<IsTruncated> 'yes' is not true or false")) {
            try ListPartsResult(xml: Self.bytes("<ListPartsResult><IsTruncated>yes</IsTruncated></ListPartsResult>"))
        }
        // A part over S3's 5 GiB part maximum is a broken answer (the bound was 5 TiB, S3's object maximum).
        #expect(throws: S3XML.ParseError(message: "<Size> '5368709121' is not a number in 0...5368709120")) {
            try ListPartsResult(xml: Self.bytes("<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag><Size>5368709121</Size></Part></ListPartsResult>"))
        }
        #expect(throws: S3XML.ParseError(message: "<Size> '-1' is not a number in 0...5368709120")) {
            try ListPartsResult(xml: Self.bytes("<ListPartsResult><Part><PartNumber>1</PartNumber><ETag>\"x\"</ETag><Size>-1</Size></Part></ListPartsResult>"))
        }
        #expect(throws: S3XML.ParseError(message: "<ETag> is missing, empty, over 1024 bytes or has control characters")) {
            try ListPartsResult(xml: Self.bytes("<ListPartsResult><Part><PartNumber>1</PartNumber><Size>1</Size></Part></ListPartsResult>"))
        }
        #expect(throws: S3XML.ParseError(message: "<NextPartNumberMarker> '10001' is not a number in 0...10000")) {
            try ListPartsResult(xml: Self.listParts(truncated: true, next: "10001", parts: ["1"]))
        }
    }

    /// SeaweedFS lists a part uploaded twice (a retried PUT) once per version, both kept for complete to choose.
    @Test func aRepeatedPartNumberIsKept() throws {
        let page = try ListPartsResult(xml: Self.listParts(truncated: false, parts: ["1", "2", "2", "3"]))
        #expect(page.parts.map(\.number) == [1, 2, 2, 3])
        var collected: [MultipartPart] = []
        #expect(try page.append(to: &collected, after: 0) == nil)
        #expect(collected.count == 4)
    }

    @Test func pagingRefusesAMarkerThatDoesNotAdvance() throws {
        var collected: [MultipartPart] = []
        let stuck = try ListPartsResult(xml: Self.listParts(truncated: true, marker: "5", next: "5", parts: ["6"]))
        #expect(throws: S3Error.badResponse("ListParts is truncated after marker 5 but its NextPartNumberMarker does not advance")) {
            try stuck.append(to: &collected, after: 5)
        }
        let missing = try ListPartsResult(xml: Self.listParts(truncated: true, parts: ["1"]))
        #expect(throws: S3Error.badResponse("ListParts is truncated after marker 0 but its NextPartNumberMarker does not advance")) {
            var fresh: [MultipartPart] = []
            try missing.append(to: &fresh, after: 0)
        }
        // An empty truncated page would let a backend keep us paging forever.
        let empty = try ListPartsResult(xml: Self.listParts(truncated: true, next: "7", parts: []))
        #expect(throws: S3Error.badResponse("ListParts is truncated after marker 0 but its NextPartNumberMarker does not advance")) {
            var fresh: [MultipartPart] = []
            try empty.append(to: &fresh, after: 0)
        }
        collected = [MultipartPart(number: 3, etag: "\"x\"", size: 1)]
        let repeated = try ListPartsResult(xml: Self.listParts(truncated: false, marker: "1", parts: ["2"]))
        #expect(throws: S3Error.badResponse("ListParts after marker 1 answered part 2 again")) { try repeated.append(to: &collected, after: 1) }
    }

    @Test func pagingStopsAt10000Parts() throws {
        let last = try ListPartsResult(xml: Self.listParts(truncated: false, marker: "9999", parts: ["10000"]))
        var collected = (1...9_999).map { MultipartPart(number: $0, etag: "\"x\"", size: 1) }
        #expect(try last.append(to: &collected, after: 9_999) == nil)
        #expect(collected.count == 10_000)
        // Ascending numbers cannot exceed 10000 parts; the count is checked on its own all the same.
        var numberedFromZero = (0..<10_000).map { MultipartPart(number: $0, etag: "\"x\"", size: 1) }
        #expect(throws: S3Error.badResponse("ListParts answered more than 10000 parts")) {
            try last.append(to: &numberedFromZero, after: 9_999)
        }
        #expect(numberedFromZero.count == 10_000)
    }

    @Test func completeResultFromSeaweedFS() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<CompleteMultipartUploadResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Location>http://127.0.0.1:18433/mpprobe/cap/a.bin</Location><Bucket>mpprobe</Bucket><Key>cap/a.bin</Key><ETag>&#34;71046e2ca1918d077bd783b79860a531-3&#34;</ETag></CompleteMultipartUploadResult>"#
        let expected = CompleteMultipartUploadResult(
            bucket: "mpprobe", key: "cap/a.bin", etag: "\"71046e2ca1918d077bd783b79860a531-3\"",
            location: "http://127.0.0.1:18433/mpprobe/cap/a.bin")
        #expect(try CompleteMultipartUploadResult(xml: Self.bytes(xml)) == expected)
        // S3 keeps a slow complete alive with spaces before the document.
        #expect(try CompleteMultipartUploadResult.outcome(of: Self.bytes("  \n  \n" + xml)).get() == expected)
    }

    /// AWS's documented failure after the 200 status: the code is the error's, the status the 200 that came first.
    @Test func anErrorInsideA200IsAFailure() {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>

            <Error>
            <Code>InternalError</Code>
            <Message>We encountered an internal error. Please try again.</Message>
            <RequestId>656c76696e6727732072657175657374</RequestId>
            <HostId>Uuag1LuByRx9e6j5Onimru9pO4ZVKnJ2Qz7/C1NPcfTWAtRPfTaOFg==</HostId>
            </Error>
            """
        let document = S3ErrorDocument(code: "InternalError", message: "We encountered an internal error. Please try again.",
                                       requestId: "656c76696e6727732072657175657374")
        #expect(CompleteMultipartUploadResult.outcome(of: Self.bytes("   " + xml)) == .failure(.s3(status: 200, document: document)))
        #expect(CompleteMultipartUploadResult.outcome(of: Self.bytes("<CompleteMultipartUploadResult><Bucket>b</Bucket></CompleteMultipartUploadResult>"))
            == .failure(.badResponse("<ETag> is missing, empty, over 1024 bytes or has control characters")))
        #expect(CompleteMultipartUploadResult.outcome(of: []) == .failure(.badResponse("empty XML document")))
    }

    @Test func listMultipartUploadsFromSeaweedFS() throws {
        let xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
            + #"<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>mpprobe</Bucket><Delimiter></Delimiter><EncodingType></EncodingType><IsTruncated>true</IsTruncated><KeyMarker></KeyMarker><MaxUploads>2</MaxUploads><NextUploadIdMarker>13fbd79c3d390e5d6585a21e11ff5ec1970cff0c_568f97ceae2d4f4fb64016f4b22cd1aa</NextUploadIdMarker><Prefix></Prefix><Upload><Initiated>2026-11-29T18:07:33Z</Initiated><Key>cap/a.bin</Key><UploadId>1029234bb281789ab1d3f76bc5b4831a658b7067_1e8ae3e13b074061a4c1af5e08f2eb44</UploadId></Upload><Upload><Initiated>2026-11-29T18:05:09Z</Initiated><Key>k</Key><UploadId>13fbd79c3d390e5d6585a21e11ff5ec1970cff0c_568f97ceae2d4f4fb64016f4b22cd1aa</UploadId></Upload></ListMultipartUploadsResult>"#
        let result = try ListMultipartUploadsResult(xml: Self.bytes(xml))
        #expect(result.bucket == "mpprobe" && result.isTruncated)
        #expect(result.uploads == [
            MultipartUploadSummary(key: "cap/a.bin", uploadId: Self.uploadId),
            MultipartUploadSummary(key: "k", uploadId: "13fbd79c3d390e5d6585a21e11ff5ec1970cff0c_568f97ceae2d4f4fb64016f4b22cd1aa"),
        ])
        let tooMany = "<ListMultipartUploadsResult>" + String(repeating: "<Upload><Key>k</Key><UploadId>u</UploadId></Upload>", count: 1001) + "</ListMultipartUploadsResult>"
        #expect(throws: S3XML.ParseError(message: "1001 uploads in one page; asked for at most 1000")) { try ListMultipartUploadsResult(xml: Self.bytes(tooMany)) }
    }

    /// Parts in ascending order whatever the order given; ETags escaped (their quotes become `&quot;`).
    @Test func completeBodyBytes() throws {
        let body = try CompletedPart.completeMultipartUpload([
            CompletedPart(number: 3, etag: "\"193d16844d1be50b489aa50379030d08\"", checksumAlgorithm: "SHA256", checksum: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="),
            CompletedPart(number: 1, etag: "\"08b4<&>\"", checksumAlgorithm: "CRC32C", checksum: "AAAAAA=="),
            CompletedPart(number: 2, etag: "\"d76f\"", checksumAlgorithm: "CRC32"),
        ])
        let expected = #"<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">"#
            + "<Part><PartNumber>1</PartNumber><ETag>&quot;08b4&lt;&amp;&gt;&quot;</ETag><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part>"
            + "<Part><PartNumber>2</PartNumber><ETag>&quot;d76f&quot;</ETag></Part>"
            + "<Part><PartNumber>3</PartNumber><ETag>&quot;193d16844d1be50b489aa50379030d08&quot;</ETag><ChecksumSHA256>47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=</ChecksumSHA256></Part>"
            + "</CompleteMultipartUpload>"
        #expect(body == Self.bytes(expected))
    }

    @Test func completeBodyRefusals() {
        func refused(_ parts: [CompletedPart], _ message: String) {
            #expect(throws: S3Error.invalid(message)) { try CompletedPart.completeMultipartUpload(parts) }
        }
        refused([], "an upload is completed with 1 to 10000 parts; got 0")
        refused((1...10_001).map { CompletedPart(number: $0, etag: "e") }, "an upload is completed with 1 to 10000 parts; got 10001")
        refused([CompletedPart(number: 0, etag: "e")], "part number 0 is outside 1-10000")
        refused([CompletedPart(number: 10_001, etag: "e")], "part number 10001 is outside 1-10000")
        refused([CompletedPart(number: 2, etag: "e"), CompletedPart(number: 2, etag: "f")], "part 2 is listed twice")
        refused([CompletedPart(number: 1, etag: "")], "part 1: the ETag must be 1-1024 printable ASCII characters")
        refused([CompletedPart(number: 1, etag: "a\u{1}b")], "part 1: the ETag must be 1-1024 printable ASCII characters")
        refused([CompletedPart(number: 1, etag: "é")], "part 1: the ETag must be 1-1024 printable ASCII characters")
        refused([CompletedPart(number: 1, etag: "e", checksum: "AAAAAA==")], "part 1: checksum algorithm '' is not SHA256, CRC32 or CRC32C")
        refused([CompletedPart(number: 1, etag: "e", checksumAlgorithm: "MD5", checksum: "AAAAAA==")],
                "part 1: checksum algorithm 'MD5' is not SHA256, CRC32 or CRC32C")
        refused([CompletedPart(number: 1, etag: "e", checksumAlgorithm: "SHA256", checksum: "</ChecksumSHA256><x>")],
                "part 1: the checksum must be base64")
    }
}
