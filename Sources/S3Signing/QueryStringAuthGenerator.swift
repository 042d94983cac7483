/// The seed's query-string generator: one URL-producing method per operation. Set `expiresIn` for a relative
/// expiry or `expires` for an absolute one; the latest one set wins, as in the seed.
public struct QueryStringAuthGenerator: Sendable {
    public let presigner: S3Presigner
    public private(set) var expiry: Expiry = .after(seconds: 60)

    /// Seconds from the signing time.
    public var expiresIn: Int64? {
        get { if case .after(let seconds) = expiry { return seconds } else { return nil } }
        set { if let newValue { expiry = .after(seconds: newValue) } }
    }

    /// An absolute expiry.
    public var expires: SigningTime? {
        get { if case .at(let instant) = expiry { return instant } else { return nil } }
        set { if let newValue { expiry = .at(newValue) } }
    }

    public init(_ configuration: S3Presigner.Configuration, keyCache: SigningKeyCache = SigningKeyCache()) {
        presigner = S3Presigner(configuration, keyCache: keyCache)
    }

    /// A S3for.me generator: S3fm SigV2 against `https://rest.s3for.me` unless told otherwise.
    public static func s3fm(
        accessKeyId: String, secretAccessKey: String,
        endpoint: S3Endpoint = S3Endpoint(scheme: "https", host: "rest.s3for.me"), addressing: Addressing = .virtual
    ) -> QueryStringAuthGenerator {
        QueryStringAuthGenerator(
            .init(
                endpoint: endpoint, region: "us-east-1", addressing: addressing, signature: .s3fm,
                credentials: Credentials(accessKeyId: accessKeyId, secretAccessKey: secretAccessKey)))
    }

    func url(
        _ operation: S3Operation, _ bucket: String = "", _ key: String = "", now: SigningTime,
        headers: [(name: String, value: String)] = [], query: [(name: String, value: String)] = []
    ) throws(SigningError) -> String {
        try presigner.presign(
            .init(operation: operation, bucket: bucket, key: key, expiry: expiry, headers: headers, query: query),
            now: now
        ).url
    }

    public func get(bucket: String, key: String, now: SigningTime, query: [(name: String, value: String)] = [])
        throws(SigningError) -> String
    { try url(.get, bucket, key, now: now, query: query) }
    public func head(bucket: String, key: String, now: SigningTime) throws(SigningError) -> String {
        try url(.head, bucket, key, now: now)
    }
    public func getACL(bucket: String, key: String, now: SigningTime) throws(SigningError) -> String {
        try url(.getACL, bucket, key, now: now)
    }
    public func put(bucket: String, key: String, now: SigningTime, headers: [(name: String, value: String)] = [])
        throws(SigningError) -> String
    { try url(.put, bucket, key, now: now, headers: headers) }
    public func putACL(bucket: String, key: String, now: SigningTime) throws(SigningError) -> String {
        try url(.putACL, bucket, key, now: now)
    }
    public func delete(bucket: String, key: String, now: SigningTime) throws(SigningError) -> String {
        try url(.delete, bucket, key, now: now)
    }
    public func createBucket(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.createBucket, bucket, now: now)
    }
    /// The client sends the `CreateBucketConfiguration` body naming `location`; the URL is the same as create_bucket's.
    public func createLocatedBucket(bucket: String, location: String, now: SigningTime) throws(SigningError) -> String {
        try url(.createLocatedBucket, bucket, now: now)
    }
    public func listBucket(bucket: String, now: SigningTime, options: [(name: String, value: String)] = [])
        throws(SigningError) -> String
    { try url(.listBucket, bucket, now: now, query: options) }
    public func getBucketLocation(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.getBucketLocation, bucket, now: now)
    }
    public func getBucketACL(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.getBucketACL, bucket, now: now)
    }
    public func putBucketACL(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.putBucketACL, bucket, now: now)
    }
    public func deleteBucket(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.deleteBucket, bucket, now: now)
    }
    public func getBucketLogging(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.getBucketLogging, bucket, now: now)
    }
    public func putBucketLogging(bucket: String, now: SigningTime) throws(SigningError) -> String {
        try url(.putBucketLogging, bucket, now: now)
    }
    public func listAllMyBuckets(now: SigningTime) throws(SigningError) -> String {
        try url(.listAllMyBuckets, now: now)
    }
}
