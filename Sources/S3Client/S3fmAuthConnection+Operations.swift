import CCurl
import Foundation
import JSONKit
import UVLoop
import S3Signing

/// The seed's operations (S3.py's `S3fmAuthConnection`), each one signed request on the worker's loop.
extension S3fmAuthConnection {
    public func listAllMyBuckets(now: SigningTime, completion: @escaping (Result<ListAllMyBucketsResult, S3Error>) -> Void) {
        document(Call(.listAllMyBuckets), now: now, completion: completion)
    }

    public struct ListOptions: Sendable {
        public var prefix: String?
        public var marker: String?
        public var maxKeys: Int?
        public var delimiter: String?
        /// ListObjectsV2 (`list-type=2`); `marker` is then the continuation token.
        public var v2 = false
        public var startAfter: String?

        public init(prefix: String? = nil, marker: String? = nil, maxKeys: Int? = nil, delimiter: String? = nil,
                    v2: Bool = false, startAfter: String? = nil) {
            self.prefix = prefix
            self.marker = marker
            self.maxKeys = maxKeys
            self.delimiter = delimiter
            self.v2 = v2
            self.startAfter = startAfter
        }

        var query: [(name: String, value: String)] {
            var out: [(name: String, value: String)] = []
            if v2 { out.append(("list-type", "2")) }
            if let delimiter { out.append(("delimiter", delimiter)) }
            if let marker { out.append((v2 ? "continuation-token" : "marker", marker)) }
            if let maxKeys { out.append(("max-keys", String(maxKeys))) }
            if let prefix { out.append(("prefix", prefix)) }
            if let startAfter, v2 { out.append(("start-after", startAfter)) }
            return out
        }
    }

    public func listBucket(_ bucket: String, options: ListOptions = .init(), now: SigningTime,
                           completion: @escaping (Result<ListBucketResult, S3Error>) -> Void) {
        document(Call(.listBucket, bucket: bucket, query: options.query), now: now, completion: completion)
    }

    public func getBucketLocation(_ bucket: String, now: SigningTime, completion: @escaping (Result<LocationConstraint, S3Error>) -> Void) {
        document(Call(.getBucketLocation, bucket: bucket), now: now, completion: completion)
    }

    /// create_bucket, or create_located_bucket when `location` is given.
    public func createBucket(_ bucket: String, location: String? = nil, now: SigningTime,
                             completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        let body: [UInt8]?
        do throws(S3Error) {
            body = try location.map { (text: String) throws(S3Error) in try Self.createBucketConfiguration(location: text) }
        } catch {
            completion(.failure(error))
            return
        }
        let operation: S3Operation = location == nil ? .createBucket : .createLocatedBucket
        fetch(Call(operation, bucket: bucket, headers: body == nil ? [] : [("Content-Type", "application/xml")]), body: body, now: now) {
            completion($0.map(\.0))
        }
    }

    /// The CreateBucketConfiguration document for create_located_bucket. The location comes from an admin's query
    /// string: it must look like a region name (`EU`, `eu-west-1`), and is escaped as XML text all the same.
    public static func createBucketConfiguration(location: String) throws(S3Error) -> [UInt8] {
        let valid = (1...64).contains(location.utf8.count) && location.utf8.allSatisfy { b in
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z"))
                || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: "-") || b == UInt8(ascii: "_")
                || b == UInt8(ascii: ".")
        }
        guard valid else {
            throw .invalid("location '\(location)' is not a region name: use 1-64 letters, digits, '-', '_' or '.'")
        }
        return Array(
            ("<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>"
                + S3XML.escape(location) + "</LocationConstraint></CreateBucketConfiguration>").utf8)
    }

    public func deleteBucket(_ bucket: String, now: SigningTime, completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        fetch(Call(.deleteBucket, bucket: bucket), now: now) { completion($0.map(\.0)) }
    }

    public func delete(_ bucket: String, key: String, now: SigningTime, completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        fetch(Call(.delete, bucket: bucket, key: key), now: now) { completion($0.map(\.0)) }
    }

    public func head(_ bucket: String, key: String, now: SigningTime, completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        fetch(Call(.head, bucket: bucket, key: key), now: now) { completion($0.map(\.0)) }
    }

    /// get_acl (with a key) or get_bucket_acl (without): the parsed policy and the document as sent.
    public func getACL(_ bucket: String, key: String? = nil, now: SigningTime,
                       completion: @escaping (Result<(AccessControlPolicy, [UInt8]), S3Error>) -> Void) {
        let call = key.map { Call(.getACL, bucket: bucket, key: $0) } ?? Call(.getBucketACL, bucket: bucket)
        documentAndBody(call, now: now, as: AccessControlPolicy.self, completion: completion)
    }

    public func putACL(_ bucket: String, key: String? = nil, xml: [UInt8], now: SigningTime,
                       completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        let headers = [(name: "Content-Type", value: "application/xml")]
        let call = key.map { Call(.putACL, bucket: bucket, key: $0, headers: headers) } ?? Call(.putBucketACL, bucket: bucket, headers: headers)
        fetch(call, body: xml, now: now) { completion($0.map(\.0)) }
    }

    public func getBucketLogging(_ bucket: String, now: SigningTime,
                                 completion: @escaping (Result<(BucketLoggingStatus, [UInt8]), S3Error>) -> Void) {
        documentAndBody(Call(.getBucketLogging, bucket: bucket), now: now, as: BucketLoggingStatus.self, completion: completion)
    }

    public func putBucketLogging(_ bucket: String, xml: [UInt8], now: SigningTime,
                                 completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void) {
        fetch(Call(.putBucketLogging, bucket: bucket, headers: [("Content-Type", "application/xml")]), body: xml, now: now) {
            completion($0.map(\.0))
        }
    }
}
