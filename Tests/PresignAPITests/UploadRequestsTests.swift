import JSONKit
@testable import PresignAPI
import Testing
import S3Client
import PresignCore
import S3Signing

/// The upload bodies are parsed exactly: types, bounds, unknown fields and checksum rules, the field named.
struct UploadRequestsTests {
    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    static func body(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func error(_ body: () throws(APIError) -> Void) -> APIError? {
        do throws(APIError) { try body(); return nil } catch { return error }
    }

    @Test func aCreateRequestReadsEveryField() throws {
        let parsed = try Intent.upload(Self.body(
            #"{"bucket":"b","key":"k/v.mp4","content_type":"video/mp4","content_length":10,"checksum_algorithm":"CRC32C","backend":"main","expires_in":60}"#))
        var expected = Intent(capability: .sign(.put), backend: "main", bucket: "b", key: "k/v.mp4", lifetime: 60)
        expected.upload.multipart = true
        expected.upload.contentType = "video/mp4"
        expected.upload.contentLength = 10
        expected.upload.checksumAlgorithm = .crc32c
        #expect(parsed == expected)
    }

    @Test(arguments: [
        (#"{"key":"k"}"#, "bucket: is required"),
        (#"{"bucket":"b"}"#, "key: is required"),
        (#"{"bucket":"b","key":"k","checksum_algorithm":"MD5"}"#, "checksum_algorithm: must be SHA256, CRC32 or CRC32C"),
        (#"{"bucket":"b","key":"k","content_length":-1}"#, "content_length: must be 0...5497558138880"),
        // S3's largest object (5 TiB), not 10,000 largest parts (48.8 TiB, which S3 refuses at complete).
        (#"{"bucket":"b","key":"k","content_length":5497558138881}"#, "content_length: must be 0...5497558138880"),
        (#"{"bucket":"b","key":"k","expires_in":0}"#, "expires_in: must be 1...31536000"),
        (#"{"bucket":"b","key":"k","size":1}"#, "size: unknown field"),
        (#"[1]"#, "body: must be a JSON object"),
    ])
    func aBadCreateRequestNamesItsField(_ body: String, _ message: String) throws {
        let value = Self.body(body)
        #expect(Self.error { () throws(APIError) in _ = try Intent.upload(value) }?.message == message)
    }

    @Test func partChecksumsFollowTheUploadsAlgorithm() throws {
        let sha = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        let crc = "AAAAAA=="
        #expect(try SignPartsRequest.parse(try Self.json(#"{"parts":[{"number":2,"content_length":5,"checksum":"\#(sha)"}]}"#), algorithm: .sha256)
                == SignPartsRequest(parts: [.init(number: 2, contentLength: 5, checksum: sha)], expiresIn: nil))
        let missing = try Self.json(#"{"parts":[{"number":1}]}"#)
        #expect(Self.error { () throws(APIError) in _ = try SignPartsRequest.parse(missing, algorithm: .crc32) }?.message
                == "parts[0].checksum: is required: the upload uses CRC32")
        let wrongSize = try Self.json(#"{"parts":[{"number":1,"checksum":"\#(crc)"}]}"#)
        #expect(Self.error { () throws(APIError) in _ = try SignPartsRequest.parse(wrongSize, algorithm: .sha256) }?.message
                == "parts[0].checksum: must be base64 of a 32-byte SHA256")
    }

    @Test func completeSortsPartsAndRefusesDuplicatesAndOddETags() throws {
        let parsed = try CompleteUploadRequest.parse(try Self.json(#"{"parts":[{"number":3,"etag":"\"c\""},{"number":1,"etag":"\"a\""}]}"#), algorithm: nil)
        #expect(parsed.parts.map(\.number) == [1, 3])
        let twice = try Self.json(#"{"parts":[{"number":1,"etag":"a"},{"number":1,"etag":"b"}]}"#)
        #expect(Self.error { () throws(APIError) in _ = try CompleteUploadRequest.parse(twice, algorithm: nil) }?.message
                == "parts[1].number: part 1 is listed twice")
        let xml = try Self.json(#"{"parts":[{"number":1,"etag":"<x>"}]}"#)
        #expect(Self.error { () throws(APIError) in _ = try CompleteUploadRequest.parse(xml, algorithm: nil) }?.message
                == "parts[0].etag: must be the part's ETag as S3 returned it")
    }
}

/// The upload intent's length bound is S3's largest object, as S3Client states it.
struct UploadLengthBoundTests {
    @Test func theIntentsBoundIsS3sLargestObject() {
        #expect(Intent.maxUploadLength == MultipartLimits.maxObjectSize)
    }
}
