import JSONKit
import PresignCore
import S3Signing
import Testing

/// One decoder for every endpoint's intent: what each form takes, and the exact error naming the field.
struct IntentTests {
    static func json(_ text: String) throws -> [UInt8] { Array(text.utf8) }

    static func error(_ body: () throws(APIError) -> Void) -> String? {
        do throws(APIError) { try body(); return nil } catch { return "\(error.status) \(error.codeName) \(error.field ?? "-") \(error.message)" }
    }

    @Test func aPresignIntentReadsEveryFieldOnce() throws {
        let intent = try Intent.presign(try Self.json(
            #"{"operation":"put","bucket":"b","key":"k","expires_in":60,"content_type":"image/png","content_length":5,"checksum_sha256":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=","backend":"main"}"#))
        var expected = Intent(capability: .sign(.put), backend: "main", bucket: "b", key: "k", lifetime: 60)
        expected.upload.contentType = "image/png"
        expected.upload.contentLength = 5
        expected.upload.checksumSHA256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="
        #expect(intent == expected)
    }

    @Test func responseOverridesKeepS3sQueryOrderWhateverTheBodysOrder() throws {
        let intent = try Intent.presign(try Self.json(
            #"{"operation":"get","bucket":"b","key":"k","response":{"expires":"0","content_type":"text/plain","content_disposition":"inline"}}"#))
        #expect(intent.response.map(\.query) == ["response-content-disposition", "response-content-type", "response-expires"])
        #expect(intent.responseContentType == "text/plain")
    }

    @Test(arguments: [
        (#"{"bucket":"b","key":"k"}"#, "400 InvalidRequest operation operation: is required"),
        (#"{"operation":"share_link","bucket":"b","key":"k"}"#,
         "400 InvalidRequest operation operation: share_link is not a presigned URL: create a link with POST /v1/links"),
        (#"{"operation":"fly","bucket":"b","key":"k"}"#, "400 InvalidRequest operation operation: unknown operation 'fly'"),
        (#"{"operation":"get","bucket":"b"}"#, "400 InvalidRequest key key: is required"),
        (#"{"operation":"list_bucket","bucket":"b","key":"k"}"#, "400 InvalidRequest key key: not used by list_bucket"),
        (#"{"operation":"get","bucket":"b/c","key":"k"}"#, "400 InvalidRequest bucket bucket: bucket names use letters, digits, '.', '-' and '_'"),
        (#"{"operation":"get","bucket":"b","key":"k","content_type":"text/plain"}"#,
         "400 InvalidRequest content_type content_type: only for put and post_object (use response.content_type for downloads)"),
        (#"{"operation":"put","bucket":"b","key":"k","content_type":"image/*"}"#,
         "400 InvalidRequest content_type content_type: must name one type, not a wildcard such as */* or image/*"),
        (#"{"operation":"put","bucket":"b","key":"k","response":{"content_type":"a/b"}}"#,
         "400 InvalidRequest response response: response overrides are only for get and head"),
        (#"{"operation":"post_object","bucket":"b","key":"k/${filename}.png"}"#,
         "400 InvalidRequest key key: ${filename} must end the key: a form is signed with starts-with on the text before it"),
        (#"{"operation":"get","bucket":"b","key":"k","expires_in":0}"#,
         "400 InvalidRequest expires_in expires_in: must be 1...31536000 seconds (SigV4 allows at most 604800)"),
        (#"{"operation":"get","bucket":"b","key":"k","max_uses":1}"#, "400 InvalidRequest max_uses max_uses: unknown field"),
        // Two names one string to Swift's `==` are two members: the second is not a repeat, it is unknown.
        (#"{"operation":"get","bucket":"b","key":"k","jos\u00e9":1,"jose\u0301":2}"#, "400 InvalidRequest jos\u{e9} jos\u{e9}: unknown field"),
        (#"{"operation":"get","bucket":"b","key":"k","response":{"content_type\u0301":"a/b"}}"#,
         "400 InvalidRequest response.content_type\u{301} response.content_type\u{301}: unknown field"),
        // Six overrides are every one S3 takes; a 7th member is refused for the count, not walked.
        (#"{"operation":"get","bucket":"b","key":"k","response":{"content_disposition":"a","content_type":"a/b","cache_control":"c","content_language":"d","content_encoding":"e","expires":"0","x":1}}"#,
         "400 InvalidRequest response response: must hold at most 6 overrides, one per field"),
        (#"{"operation":"get","bucket":"b","key":"k","response":{"content_disposition":"a","x":1}}"#,
         "400 InvalidRequest response.x response.x: unknown field"),
        (#"{"operation":"put","bucket":"b","key":"k","content_md5":"1B2M2Y8AsgTpgAmY7PhCfh=="}"#,
         "400 InvalidRequest content_md5 content_md5: must be base64 of a 16-byte MD5, for put"),
        (#"{"operation":"put","bucket":"b","key":"k","checksum_sha256":"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ"}"#,
         "400 InvalidRequest checksum_sha256 checksum_sha256: must be base64 of a 32-byte SHA-256, for put"),
    ])
    func aBadPresignIntentNamesItsField(_ body: String, _ expected: String) throws {
        let value = try Self.json(body)
        #expect(Self.error { () throws(APIError) in _ = try Intent.presign(value) } == expected)
    }

    @Test func batchItemsNameTheirPath() throws {
        let value = try Self.json(#"{"requests":[{"operation":"get","bucket":"b","key":"k"},{"operation":"head","bucket":"b","key":"k"},{"operation":"get","bucket":"b","key":"k"},{"operation":"get","bucket":"b","key":7}]}"#)
        #expect(Self.error { () throws(APIError) in _ = try Intent.batch(value) }
                == "400 InvalidRequest requests[3].key requests[3].key: must be a string")
    }

    @Test func aLinkIsAShareLinkIntentWithUsesAndOverrides() throws {
        let intent = try Intent.link(try Self.json(#"{"bucket":"b","key":"k","max_uses":3,"response":{"content_disposition":"attachment"}}"#))
        #expect(intent.capability == .shareLink)
        #expect(intent.maxUses == 3)
        #expect(intent.response == Intent.responseOverrides(["content_disposition": "attachment"]))
        let zero = try Self.json(#"{"bucket":"b","key":"k","max_uses":0}"#)
        #expect(Self.error { () throws(APIError) in _ = try Intent.link(zero) }
                == "400 InvalidRequest max_uses max_uses: must be an integer from 1 to 1000000")
        let operation = try Self.json(#"{"operation":"get","bucket":"b","key":"k"}"#)
        #expect(Self.error { () throws(APIError) in _ = try Intent.link(operation) } == "400 InvalidRequest operation operation: unknown field")
    }

    @Test func anUploadIsAMultipartPutIntent() throws {
        let intent = try Intent.upload(try Self.json(#"{"bucket":"b","key":"k","content_type":"video/mp4"}"#))
        #expect(intent.capability == .sign(.put) && intent.upload.multipart && intent.upload.contentType == "video/mp4")
        let wildcard = try Self.json(#"{"bucket":"b","key":"k","content_type":"video/*"}"#)
        #expect(Self.error { () throws(APIError) in _ = try Intent.upload(wildcard) }
                == "400 InvalidRequest content_type content_type: must be one media type: type/subtype, then optional ;name=value parameters (RFC 9110)")
    }
}
