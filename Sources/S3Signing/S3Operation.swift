/// The seed's operations, each with its HTTP method, sub-resource and whether it names a bucket and key.
public enum S3Operation: String, Sendable, CaseIterable, Codable {
    case get, head, put, delete
    case getACL = "get_acl"
    case putACL = "put_acl"
    case createBucket = "create_bucket"
    case createLocatedBucket = "create_located_bucket"
    case listBucket = "list_bucket"
    case deleteBucket = "delete_bucket"
    case getBucketACL = "get_bucket_acl"
    case putBucketACL = "put_bucket_acl"
    case getBucketLocation = "get_bucket_location"
    case getBucketLogging = "get_bucket_logging"
    case putBucketLogging = "put_bucket_logging"
    case listAllMyBuckets = "list_all_my_buckets"

    public enum Scope: Sendable { case service, bucket, object }

    public var method: String {
        switch self {
        case .get, .getACL, .listBucket, .getBucketACL, .getBucketLocation, .getBucketLogging, .listAllMyBuckets:
            return "GET"
        case .head: return "HEAD"
        case .put, .putACL, .createBucket, .createLocatedBucket, .putBucketACL, .putBucketLogging: return "PUT"
        case .delete, .deleteBucket: return "DELETE"
        }
    }

    /// The value-less sub-resource this operation adds to the query (`?acl`), if any.
    public var subresource: String? {
        switch self {
        case .getACL, .putACL, .getBucketACL, .putBucketACL: return "acl"
        case .getBucketLocation: return "location"
        case .getBucketLogging, .putBucketLogging: return "logging"
        default: return nil
        }
    }

    public var scope: Scope {
        switch self {
        case .get, .head, .put, .delete, .getACL, .putACL: return .object
        case .listAllMyBuckets: return .service
        default: return .bucket
        }
    }

    /// The operation for a plain object method (the CLI's `--method`).
    public static func object(method: String) -> S3Operation? {
        switch method.uppercased() {
        case "GET": return .get
        case "HEAD": return .head
        case "PUT": return .put
        case "DELETE": return .delete
        default: return nil
        }
    }
}
