import Foundation

/// The steps of `S3RoutesReplayTests`. `{uploadN}` in a target is the Nth upload handle a create answered.
extension S3RoutesReplayTests {
    static func steps() -> [Step] {
        uploadSteps() + adminSteps()
    }

    static func uploadSteps() -> [Step] {
        var list: [Step] = []
        let ops = [("Authorization", "Bearer \(opsKey)")]
        func api(_ name: String, _ method: String, _ target: String, _ body: String = "", _ headers: [(String, String)]? = nil) {
            list.append(.api(.init(name: name, method: method, target: target, headers: headers ?? ops, body: body)))
        }
        let complete12 = #"{"parts":[{"number":1,"etag":"\"part-1-5242880\""},{"number":2,"etag":"\"part-2-100\""}]}"#
        // {upload1}: a plain upload, listed, refused, then completed.
        api("create", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/a.bin","backend":"main"}"#)
        api("list no parts", "GET", "/v1/uploads/{upload1}/parts")
        list.append(.s3 { $0.uploadPart("fake-upload-1", 1, size: 5_242_880) })
        list.append(.s3 { $0.uploadPart("fake-upload-1", 2, size: 100) })
        api("list two parts", "GET", "/v1/uploads/{upload1}/parts")
        api("complete naming a part not uploaded", "POST", "/v1/uploads/{upload1}/complete", #"{"parts":[{"number":1,"etag":"\"part-1-5242880\""},{"number":3,"etag":"\"x\""}]}"#)
        api("complete with another etag", "POST", "/v1/uploads/{upload1}/complete", #"{"parts":[{"number":1,"etag":"\"other\""},{"number":2,"etag":"\"part-2-100\""}]}"#)
        api("complete", "POST", "/v1/uploads/{upload1}/complete", complete12)
        api("complete again", "POST", "/v1/uploads/{upload1}/complete", complete12)
        api("list after complete", "GET", "/v1/uploads/{upload1}/parts")
        api("abort after complete", "DELETE", "/v1/uploads/{upload1}")
        // {upload2}: declared type, length and checksum; aborted.
        api("create typed", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/b.txt","backend":"main","content_type":"text/plain","content_length":12,"checksum_algorithm":"SHA256"}"#)
        api("abort", "DELETE", "/v1/uploads/{upload2}")
        api("abort again", "DELETE", "/v1/uploads/{upload2}")
        // {upload3}: parts over the declared length: aborted at complete.
        api("create declared 12", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/c.bin","backend":"main","content_length":12}"#)
        list.append(.s3 { $0.uploadPart("fake-upload-3", 1, size: 10) })
        list.append(.s3 { $0.uploadPart("fake-upload-3", 2, size: 10) })
        api("complete over the declared length", "POST", "/v1/uploads/{upload3}/complete", #"{"parts":[{"number":1,"etag":"\"part-1-10\""},{"number":2,"etag":"\"part-2-10\""}]}"#)
        // {upload4}: S3 fails the HEAD after the complete: the object is deleted.
        api("create on fm", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/d.bin","backend":"fm"}"#)
        list.append(.s3 { $0.uploadPart("fake-upload-4", 1, size: 7) })
        list.append(.s3 { $0.fail("HEAD", "/reports/big/d.bin", status: 500, code: "InternalError", message: "We encountered an internal error. Please try again.") })
        api("complete whose HEAD fails", "POST", "/v1/uploads/{upload4}/complete", #"{"parts":[{"number":1,"etag":"\"part-1-7\""}]}"#)
        // Errors from S3 at each step.
        list.append(.s3 { $0.fail("POST", "/reports/big/e.bin", status: 503, code: "SlowDown", message: "Please reduce your request rate.") })
        api("create slowed down", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/e.bin","backend":"main"}"#)
        api("create e", "POST", "/v1/uploads", #"{"bucket":"reports","key":"big/e.bin","backend":"main"}"#)
        list.append(.s3 { $0.fail("GET", "/reports/big/e.bin", status: 403, code: "AccessDenied", message: "Access Denied") })
        api("list denied by S3", "GET", "/v1/uploads/{upload5}/parts")
        list.append(.s3 { $0.fail("DELETE", "/reports/big/e.bin", status: 500, code: "InternalError", message: "We encountered an internal error. Please try again.") })
        api("abort failing", "DELETE", "/v1/uploads/{upload5}")
        api("create in a bucket S3 lacks", "POST", "/v1/uploads", #"{"bucket":"reports-gone","key":"x","backend":"main"}"#)
        return list
    }

    static func adminSteps() -> [Step] {
        var list: [Step] = []
        let auth = [("Authorization", "Bearer \(adminToken)")]
        func admin(_ name: String, _ method: String, _ target: String, _ body: String = "", _ headers: [(String, String)]? = nil) {
            list.append(.admin(.init(name: "admin: " + name, method: method, target: target, headers: headers ?? auth, body: body)))
        }
        let base = "/admin/v1/buckets"
        admin("list buckets", "GET", "\(base)?backend=main")
        admin("list buckets without a token", "GET", "\(base)?backend=main", "", [])
        admin("list buckets with another token", "GET", "\(base)?backend=main", "", [("Authorization", "Bearer nope")])
        admin("list buckets, no backend of two", "GET", base)
        admin("list buckets, unknown backend", "GET", "\(base)?backend=nope")
        list.append(.s3 { $0.fail("GET", "/", status: 503, code: "SlowDown", message: "Please reduce your request rate.") })
        admin("list buckets slowed down", "GET", "\(base)?backend=main")
        admin("list objects", "GET", "\(base)/reports/objects?backend=main")
        admin("list objects by prefix and delimiter", "GET", "\(base)/reports/objects?backend=main&prefix=dir%2F&delimiter=%2F")
        admin("list objects delimited", "GET", "\(base)/reports/objects?backend=main&delimiter=/")
        admin("list objects one key", "GET", "\(base)/reports/objects?backend=main&max_keys=1")
        admin("list objects after a marker", "GET", "\(base)/reports/objects?backend=main&marker=a.txt")
        admin("list objects v2", "GET", "\(base)/reports/objects?backend=fm&list_type=2&max_keys=2")
        admin("list objects max_keys 0", "GET", "\(base)/reports/objects?backend=main&max_keys=0")
        admin("list objects of a missing bucket", "GET", "\(base)/missing/objects?backend=main")
        admin("list an empty bucket", "GET", "\(base)/empty/objects?backend=main")
        admin("location", "GET", "\(base)/reports/location?backend=main")
        admin("bucket acl", "GET", "\(base)/reports/acl?backend=main")
        admin("head object", "HEAD", "\(base)/reports/objects/dir/b.txt?backend=main")
        admin("head a key with a space", "HEAD", "\(base)/reports/objects/dir/c%20d+e.txt?backend=main")
        admin("head missing object", "HEAD", "\(base)/reports/objects/nope.txt?backend=main")
        admin("get object", "GET", "\(base)/reports/objects/a.txt?backend=main")
        admin("get missing object", "GET", "\(base)/reports/objects/nope.txt?backend=main")
        admin("delete object", "DELETE", "\(base)/reports/objects/a.txt?backend=main")
        admin("list after the delete", "GET", "\(base)/reports/objects?backend=main")
        admin("delete a bucket with objects", "DELETE", "\(base)/reports?backend=main")
        admin("create bucket", "PUT", "\(base)/fresh?backend=main")
        admin("create it again", "PUT", "\(base)/fresh?backend=main")
        admin("delete the empty bucket", "DELETE", "\(base)/fresh?backend=main")
        admin("delete a missing bucket", "DELETE", "\(base)/fresh?backend=main")
        list.append(.s3 { $0.fail("DELETE", "/logs/old.log", status: 500, code: "InternalError", message: "We encountered an internal error. Please try again.") })
        admin("delete failing in S3", "DELETE", "\(base)/logs/objects/old.log?backend=main")
        admin("post to objects", "POST", "\(base)/reports/objects?backend=main")
        return list
    }
}
