/// Which signature a backend speaks.
public enum SignatureVersion: String, Sendable, CaseIterable, Codable {
    /// AWS Signature Version 4.
    case v4
    /// AWS Signature Version 2 (`AWSAccessKeyId`).
    case v2
    /// S3for.me's SigV2 dialect (`S3fmAccessKeyId`).
    case s3fm

    var v2Dialect: SigV2Signer.Dialect? {
        switch self {
        case .v4: return nil
        case .v2: return .aws
        case .s3fm: return .s3fm
        }
    }
}

/// When a presigned URL stops working.
public enum Expiry: Sendable, Hashable {
    /// Relative to the signing time.
    case after(seconds: Int64)
    /// An absolute instant.
    case at(SigningTime)
}

/// Produces presigned URLs for one backend: endpoint, addressing, region, signature version and credentials.
/// Pure: the signing time is always a parameter.
public struct S3Presigner: Sendable {
    public struct Configuration: Sendable {
        /// Where the storage is reached.
        public var endpoint: S3Endpoint
        /// The scheme and host clients use (a CDN or custom domain) when it differs from `endpoint`.
        /// URLs name it and are signed for it.
        public var publicEndpoint: S3Endpoint?
        public var region: String
        public var addressing: Addressing
        public var signature: SignatureVersion
        public var credentials: Credentials
        /// With vanity addressing the bucket is the host presignd (and the URL's user) connects to; when this is not
        /// empty, a bucket must equal one of these domains or end with `.` and one of them. Lower case, no dots at
        /// either end.
        public var vanityDomains: [String]

        public init(
            endpoint: S3Endpoint, publicEndpoint: S3Endpoint? = nil, region: String, addressing: Addressing = .path,
            signature: SignatureVersion = .v4, credentials: Credentials, vanityDomains: [String] = []
        ) {
            self.endpoint = endpoint
            self.publicEndpoint = publicEndpoint
            self.region = region
            self.addressing = addressing
            self.signature = signature
            self.credentials = credentials
            self.vanityDomains = vanityDomains
        }
    }

    /// One URL to make.
    public struct Request: Sendable {
        public var operation: S3Operation
        public var bucket: String
        public var key: String
        public var expiry: Expiry
        /// Headers the client will send and which the signature covers (Content-Type, x-amz-meta-*, ...).
        public var headers: [(name: String, value: String)]
        /// Extra query parameters, decoded: response-* overrides, versionId, ...
        public var query: [(name: String, value: String)]

        public init(
            operation: S3Operation, bucket: String = "", key: String = "", expiry: Expiry,
            headers: [(name: String, value: String)] = [], query: [(name: String, value: String)] = []
        ) {
            self.operation = operation
            self.bucket = bucket
            self.key = key
            self.expiry = expiry
            self.headers = headers
            self.query = query
        }
    }

    /// A presigned URL and what the client must send with it.
    public struct PresignedURL: Sendable {
        /// The URL's bytes, as built: a JSON answer copies them without a `String` in between.
        public let urlBytes: [UInt8]
        public var url: String { String(decoding: urlBytes, as: UTF8.self) }
        public let method: String
        /// Exactly the headers the client must send (the signed ones other than Host).
        public let headers: [(name: String, value: String)]
        public let expires: SigningTime
        public let signature: SignatureVersion
    }

    /// Everything a presigner holds, behind one reference: a presigner is copied into each signer, window and
    /// result on the way to a signature, and as a struct of some fifteen references every copy retained and released
    /// each of them (this step with the index-sorted headers: presign 177k -> 168k instructions, 58 -> 51 allocations).
    final class Storage: Sendable {
        let configuration: Configuration
        let v4: SigV4Signer
        let v2: SigV2Signer?

        init(_ configuration: Configuration, keyCache: SigningKeyCache) {
            self.configuration = configuration
            v4 = SigV4Signer(
                credentials: configuration.credentials, region: configuration.region, service: "s3", pathRule: .s3,
                keyCache: keyCache)
            v2 = configuration.signature.v2Dialect.map { SigV2Signer(credentials: configuration.credentials, dialect: $0) }
        }
    }

    let storage: Storage
    public var configuration: Configuration { storage.configuration }
    var v4: SigV4Signer { storage.v4 }
    var v2: SigV2Signer? { storage.v2 }

    public init(_ configuration: Configuration, keyCache: SigningKeyCache = SigningKeyCache()) {
        storage = Storage(configuration, keyCache: keyCache)
    }

    public func presign(_ request: Request, now: SigningTime) throws(SigningError) -> PresignedURL {
        try S3Validation.check(headers: request.headers)
        try S3Validation.check(query: request.query)
        let configuration = storage.configuration
        let target = try S3Target(
            endpoint: configuration.publicEndpoint ?? configuration.endpoint, addressing: configuration.addressing,
            vanityDomains: configuration.vanityDomains, bucket: request.bucket, key: request.key,
            scope: request.operation.scope)
        let method = request.operation.method

        if let v2 = storage.v2 {
            var query: [(name: String, value: String?)] = []
            if let sub = request.operation.subresource { query.append((sub, nil)) }
            for item in request.query { query.append((item.name, item.value)) }
            let expires: SigningTime
            switch request.expiry {
            case .after(let seconds):
                guard seconds >= 1 else {
                    throw SigningError(.invalidExpiry, "expiry must be at least 1 second; got \(seconds)")
                }
                guard let end = now.addingIfRepresentable(seconds: seconds) else {
                    throw SigningError(.invalidExpiry, "expiry of \(seconds) seconds ends after \(SigningTime.latest.iso8601)")
                }
                expires = end
            case .at(let instant):
                guard instant > now else {
                    throw SigningError(.invalidExpiry, "expiry \(instant.iso8601) is not after the signing time")
                }
                expires = instant
            }
            let signed = v2.presign(
                method: method, resourcePath: target.resourcePath, query: query, headers: request.headers,
                expires: expires)
            let url = target.url(query: query + signed.added.map { ($0.name, Optional($0.value)) })
            return PresignedURL(
                urlBytes: url, method: method, headers: request.headers, expires: expires,
                signature: configuration.signature)
        }

        let seconds: Int64
        switch request.expiry {
        case .after(let value): seconds = value
        case .at(let instant): seconds = instant.epochSeconds - now.epochSeconds
        }
        // A value-less subresource signs as `name=`; an operation without one and no extra query makes no array.
        var query = request.query
        if let sub = request.operation.subresource { query.insert((sub, ""), at: 0) }
        let (stages, _) = try storage.v4.presignStages(
            method: method, wirePath: target.wirePath, query: query, host: target.authority,
            headers: request.headers, expiresIn: seconds, time: now,
            payloadHash: SigV4.unsignedPayload, signSessionToken: true)
        // The canonical query is already sorted and encoded: the URL reuses it and appends the signature.
        let url = target.url(
            encodedQuery: stages.canonicalRequest[stages.canonicalQuery], signature: stages.signature)
        return PresignedURL(
            urlBytes: url, method: method, headers: request.headers, expires: now.adding(seconds: seconds),
            signature: .v4)
    }
}

/// Scheme, host and paths of one request after addressing rules are applied.
struct S3Target {
    let scheme: String
    /// The Host header value.
    let authority: String
    /// The path as sent, percent-encoded once.
    let wirePath: String
    /// SigV2's resource path: always `/bucket/key`, whatever the addressing.
    let resourcePath: String

    init(
        endpoint: S3Endpoint, addressing: Addressing, vanityDomains: [String], bucket: String, key: String,
        scope: S3Operation.Scope
    ) throws(SigningError) {
        scheme = endpoint.scheme
        if scope == .service {
            authority = endpoint.authority
            wirePath = "/"
            resourcePath = "/"
            return
        }
        try S3Validation.check(bucket: bucket, addressing: addressing, endpoint: endpoint, vanityDomains: vanityDomains)
        if scope == .object { try S3Validation.check(key: key) }
        // "/bucket/" + encoded key (empty for bucket operations), built once.
        var path: [UInt8] = []
        path.reserveCapacity(bucket.utf8.count + key.utf8.count * 3 + 2)
        path.append(UInt8(ascii: "/"))
        path += bucket.utf8
        path.append(UInt8(ascii: "/"))
        let keyStart = path.count - 1
        PercentEncoding.append(key, keepSlash: true, to: &path)
        resourcePath = String(decoding: path, as: UTF8.self)
        switch addressing {
        case .path:
            authority = endpoint.authority
            wirePath = resourcePath
        case .virtual where endpoint.isIPAddress:
            // A bucket cannot be a subdomain of an IP address; fall back to path style as the AWS SDKs do.
            authority = endpoint.authority
            wirePath = resourcePath
        case .virtual:
            authority = bucket + "." + endpoint.authority
            wirePath = String(decoding: path[keyStart...], as: UTF8.self)
        case .vanity:
            authority = endpoint.port.map { "\(bucket):\($0)" } ?? bucket
            wirePath = String(decoding: path[keyStart...], as: UTF8.self)
        }
    }

    /// The full URL with an already encoded query plus one more parameter.
    func url(encodedQuery: ArraySlice<UInt8>, signature: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(96 + scheme.utf8.count + authority.utf8.count + wirePath.utf8.count + encodedQuery.count)
        out += scheme.utf8
        out += "://".utf8
        out += authority.utf8
        out += wirePath.utf8
        out.append(UInt8(ascii: "?"))
        out += encodedQuery
        out += "&X-Amz-Signature=".utf8
        out += signature
        return out
    }

    /// The full URL with `query` (decoded values; nil means a value-less parameter) RFC 3986-encoded.
    func url(query: [(name: String, value: String?)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + wirePath.utf8.count)
        out += scheme.utf8
        out += "://".utf8
        out += authority.utf8
        out += wirePath.utf8
        for (index, item) in query.enumerated() {
            out.append(index == 0 ? UInt8(ascii: "?") : UInt8(ascii: "&"))
            PercentEncoding.append(item.name, to: &out)
            if let value = item.value {
                out.append(UInt8(ascii: "="))
                PercentEncoding.append(value, to: &out)
            }
        }
        return out
    }
}
