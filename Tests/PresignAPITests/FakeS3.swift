import Foundation
import HTTPServer
import S3Client
import Synchronization

/// An in-memory S3 (path-style addressing) for running the routes that call S3 in process: buckets, objects and
/// multipart uploads, answered with S3's documents (XML results, `<Error>` documents, HEAD headers) on a later turn
/// of the request's loop, through the same `S3fmAuthConnection` that talks to a real backend. It keeps a log of the
/// requests it was sent, and can be told to fail the next request to a path (an error from S3).
final class FakeS3: Sendable {
    struct Object {
        var body: [UInt8]
        var contentType: String
        var etag: String
        /// The body's length; a completed multipart object keeps only its size.
        var size: Int64
    }

    struct Upload {
        var bucket: String
        var key: String
        var parts: [Int: (etag: String, size: Int64)] = [:]
    }

    struct Failure {
        var status: Int
        var code: String
        var message: String
    }

    struct State {
        /// Objects by bucket, then key (listed in key order).
        var buckets: [String: [String: Object]] = [:]
        var uploads: [String: Upload] = [:]
        var nextUpload = 1
        var nextRequest = 1
        /// Failures for the next request whose `METHOD /path` matches.
        var failures: [String: Failure] = [:]
        /// `METHOD /path?query` of every request, in order.
        var log: [String] = []
    }

    let state = Mutex(State())
    /// The time S3 stamps on objects and buckets.
    static let stamp = "2026-11-18T11:06:40.000Z"

    /// Transports for an `S3ConnectionCache`: each loop's connections talk to this S3.
    var transports: S3Transports { S3Transports { [self] loop in Transport(s3: self, loop: loop) } }

    func createBucket(_ name: String) { state.withLock { $0.buckets[name] = $0.buckets[name] ?? [:] } }

    func put(_ bucket: String, _ key: String, _ body: String, type: String = "text/plain") {
        state.withLock { state in
            state.buckets[bucket, default: [:]][key] = Object(body: Array(body.utf8), contentType: type, etag: Self.etag(Array(body.utf8)), size: Int64(body.utf8.count))
        }
    }

    /// A part uploaded straight to S3 with a presigned URL, as a client does.
    func uploadPart(_ uploadId: String, _ number: Int, size: Int64) {
        state.withLock { $0.uploads[uploadId]?.parts[number] = ("\"part-\(number)-\(size)\"", size) }
    }

    /// The next request `METHOD /path` (no query) fails with this status and `<Error>` document.
    func fail(_ method: String, _ path: String, status: Int, code: String, message: String) {
        state.withLock { $0.failures["\(method) \(path)"] = Failure(status: status, code: code, message: message) }
    }

    var log: [String] { state.withLock { $0.log } }

    static func etag(_ body: [UInt8]) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in body { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return "\"" + String(hash, radix: 16) + "\""
    }

    /// What S3 answers.
    struct Answer {
        var status: Int
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        static func xml(_ text: String, status: Int = 200) -> Answer {
            Answer(status: status, headers: [("Content-Type", "application/xml")], body: Array(("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + text).utf8))
        }

        static func error(_ status: Int, _ code: String, _ message: String, resource: String) -> Answer {
            .xml("<Error><Code>\(code)</Code><Message>\(FakeS3.escape(message))</Message><Resource>\(FakeS3.escape(resource))</Resource><RequestId>fake-request</RequestId></Error>", status: status)
        }

        static func empty(_ status: Int, headers: [(name: String, value: String)] = []) -> Answer {
            Answer(status: status, headers: headers, body: [])
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    /// Serves one request: `path` is percent-decoded, `query` in the order sent.
    func serve(method: String, path: String, query: [(String, String)], body: [UInt8]) -> Answer {
        state.withLock { state in
            state.log.append(method + " " + path + (query.isEmpty ? "" : "?" + query.map { $0.1.isEmpty ? $0.0 : "\($0.0)=\($0.1)" }.joined(separator: "&")))
            if let failure = state.failures.removeValue(forKey: "\(method) \(path)") {
                return .error(failure.status, failure.code, failure.message, resource: path)
            }
            let parts = path.dropFirst().split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let bucket = parts.first ?? ""
            let key = parts.count > 1 ? parts[1] : ""
            let names = Set(query.map(\.0))
            if bucket.isEmpty { return Self.listBuckets(state) }
            if key.isEmpty { return Self.bucketCall(method, bucket, names, query, &state) }
            guard state.buckets[bucket] != nil else { return .error(404, "NoSuchBucket", "The specified bucket does not exist", resource: path) }
            if names.contains("uploads") || names.contains("uploadId") {
                return Self.multipart(method, bucket, key, query, body, &state)
            }
            return Self.objectCall(method, bucket, key, body, &state)
        }
    }
}
