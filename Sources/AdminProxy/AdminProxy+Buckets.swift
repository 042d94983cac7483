import HTTPServer
import PresignCore
import PresignRuntime
import S3Client

/// Bucket operations: each sends one backend request and answers from its completion (JSON for lists and
/// locations, S3's XML for ACL and logging documents, an empty status otherwise).
extension AdminProxy {
    func listBuckets(_ call: AdminCall) {
        call.connection.listAllMyBuckets(now: call.now) { result in
            call.context.respond(Self.json(result.map { AdminJSON.buckets($0) }))
        }
    }

    func createBucket(_ call: AdminCall) {
        let bucket = call.bucket
        call.connection.createBucket(bucket, location: call.param("location"), now: call.now) { result in
            call.context.respond(Self.json(result.map { _ in AdminJSON.created(bucket: bucket) }))
        }
    }

    func deleteBucket(_ call: AdminCall) {
        call.connection.deleteBucket(call.bucket, now: call.now) { result in call.context.respond(Self.empty(result)) }
    }

    /// 400 before the backend is asked when `max_keys` is not 1...1000.
    func listObjects(_ call: AdminCall) -> HTTPResponse? {
        var options = S3fmAuthConnection.ListOptions(
            prefix: call.param("prefix"), marker: call.param("marker"), delimiter: call.param("delimiter"),
            v2: call.param("list_type") == "2", startAfter: call.param("start_after"))
        if let maxKeys = call.param("max_keys") {
            guard let value = Int(maxKeys), (1...1000).contains(value) else {
                return HTTPResponse(error: APIError(.invalidRequest, "max_keys: must be 1...1000"))
            }
            options.maxKeys = value
        }
        call.connection.listBucket(call.bucket, options: options, now: call.now) { result in
            call.context.respond(Self.json(result.map { AdminJSON.list($0) }))
        }
        return nil
    }

    func bucketLocation(_ call: AdminCall) {
        call.connection.getBucketLocation(call.bucket, now: call.now) { result in
            call.context.respond(Self.json(result.map { AdminJSON.location($0.location) }))
        }
    }

    func getBucketACL(_ call: AdminCall) {
        call.connection.getACL(call.bucket, now: call.now) { result in call.context.respond(Self.xml(result.map(\.1))) }
    }

    func putBucketACL(_ call: AdminCall) {
        call.connection.putACL(call.bucket, xml: call.request.body, now: call.now) { result in
            call.context.respond(Self.empty(result, status: .ok))
        }
    }

    func getBucketLogging(_ call: AdminCall) {
        call.connection.getBucketLogging(call.bucket, now: call.now) { result in call.context.respond(Self.xml(result.map(\.1))) }
    }

    func putBucketLogging(_ call: AdminCall) {
        call.connection.putBucketLogging(call.bucket, xml: call.request.body, now: call.now) { result in
            call.context.respond(Self.empty(result, status: .ok))
        }
    }
}
