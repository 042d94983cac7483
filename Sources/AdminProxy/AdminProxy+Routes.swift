import HTTPServer

/// The admin rows of the endpoint table, each naming an operation, and one line per operation saying what it
/// starts. The operations themselves are in `AdminProxy+Buckets` and `AdminProxy+Objects`.
extension AdminProxy {
    /// Each route's name is the seed's operation name, written to the audit line.
    enum Route: String {
        case listBuckets = "list_all_my_buckets"
        case createBucket = "create_bucket"
        case deleteBucket = "delete_bucket"
        case listObjects = "list_bucket"
        case location = "get_bucket_location"
        case getBucketACL = "get_bucket_acl"
        case putBucketACL = "put_bucket_acl"
        case getLogging = "get_bucket_logging"
        case putLogging = "put_bucket_logging"
        case getObject = "get"
        case headObject = "head"
        case putObject = "put"
        case deleteObject = "delete"

        /// Only an object PUT reads its body as a stream (an upload, or an ACL document collected piecewise).
        var streamsBody: Bool { self == .putObject }

        /// The audit line's operation: `?acl` and `?location=` name a different seed operation on the same route.
        func operation(for call: AdminCall) -> String {
            switch self {
            case .getObject where call.hasACL: "get_acl"
            case .putObject where call.hasACL: "put_acl"
            case .createBucket where call.param("location") != nil: "create_located_bucket"
            default: rawValue
            }
        }
    }

    /// The admin rows of the endpoint table, in matching order: each names its operation. Every row is for the admin
    /// token's holder (`.caller(cost: 0)`: the token is checked, no rate limit applies).
    public func endpoints() -> [Endpoint] {
        let rows: [(HTTPMethod, PathPattern, Route)] = [
            (.get, "/admin/v1/buckets", .listBuckets),
            (.put, "/admin/v1/buckets/{bucket}", .createBucket),
            (.delete, "/admin/v1/buckets/{bucket}", .deleteBucket),
            (.get, "/admin/v1/buckets/{bucket}/objects", .listObjects),
            (.get, "/admin/v1/buckets/{bucket}/location", .location),
            (.get, "/admin/v1/buckets/{bucket}/acl", .getBucketACL),
            (.put, "/admin/v1/buckets/{bucket}/acl", .putBucketACL),
            (.get, "/admin/v1/buckets/{bucket}/logging", .getLogging),
            (.put, "/admin/v1/buckets/{bucket}/logging", .putLogging),
            (.get, "/admin/v1/buckets/{bucket}/objects/{key...}", .getObject),
            (.head, "/admin/v1/buckets/{bucket}/objects/{key...}", .headObject),
            (.put, "/admin/v1/buckets/{bucket}/objects/{key...}", .putObject),
            (.delete, "/admin/v1/buckets/{bucket}/objects/{key...}", .deleteObject),
        ]
        return rows.map { method, path, route in
            Endpoint(method, path, listener: .admin, access: .caller(cost: 0), streamsBody: route.streamsBody) { [self] in
                handle($0, $1, route)
            }
        }
    }

    /// Starts a route's operation. A response returned here answers at once (a request refused before the backend
    /// sees it); nil means the operation answers later from its completion.
    func start(_ route: Route, _ call: AdminCall) -> HTTPResponse? {
        switch route {
        case .listBuckets: listBuckets(call)
        case .createBucket: createBucket(call)
        case .deleteBucket: deleteBucket(call)
        case .listObjects: return listObjects(call)
        case .location: bucketLocation(call)
        case .getBucketACL: getBucketACL(call)
        case .putBucketACL: putBucketACL(call)
        case .getLogging: getBucketLogging(call)
        case .putLogging: putBucketLogging(call)
        case .getObject where call.hasACL: getObjectACL(call)
        case .getObject: download(call)
        case .headObject: headObject(call)
        case .putObject where call.hasACL: return putObjectACL(call)
        case .putObject: upload(call)
        case .deleteObject: deleteObject(call)
        }
        return nil
    }
}
