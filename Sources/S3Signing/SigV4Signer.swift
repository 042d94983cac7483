/// Signs requests with SigV4 for one credential set, region and service, caching derived keys.
public struct SigV4Signer: Sendable {
    public let credentials: Credentials
    public let region: String
    public let service: String
    public let pathRule: SigV4.PathRule
    public let keyCache: SigningKeyCache

    public init(
        credentials: Credentials, region: String, service: String = "s3", pathRule: SigV4.PathRule = .s3,
        keyCache: SigningKeyCache = SigningKeyCache()
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathRule = pathRule
        self.keyCache = keyCache
    }

    /// Every intermediate value of one signature, so tests can check each stage.
    public struct Signed: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        public let signature: String
        public let signedHeaders: String
        /// Query-string auth: the parameters to add to the URL (decoded values), signature last.
        /// Header auth: the headers to add to the request, Authorization last.
        public let added: [(name: String, value: String)]
    }

    func scope(_ time: SigningTime) -> SigV4.Scope {
        SigV4.Scope(dateStamp: time.dateStamp, region: region, service: service)
    }

    func sign(
        method: String, wirePath: String, query: [(name: String, value: String)],
        headers: [(name: String, value: String)], payloadHash: String, time: SigningTime
    ) -> (canonicalRequest: String, stringToSign: String, signature: String, signedHeaders: String) {
        let (canonicalHeaders, signedHeaders) = SigV4.canonicalHeaders(headers)
        let canonicalRequest = SigV4.canonicalRequest(
            method: method, canonicalURI: SigV4.canonicalURI(wirePath: wirePath, rule: pathRule),
            canonicalQuery: SigV4.canonicalQuery(query), canonicalHeaders: canonicalHeaders,
            signedHeaders: signedHeaders, payloadHash: payloadHash)
        let scope = scope(time)
        let stringToSign = SigV4.stringToSign(canonicalRequest: canonicalRequest, amzDate: time.amzDate, scope: scope)
        let key = keyCache.signingKey(
            secret: credentials.secretAccessKey, dateStamp: scope.dateStamp, region: region, service: service)
        return (canonicalRequest, stringToSign, SigV4.signature(stringToSign: stringToSign, signingKey: key), signedHeaders)
    }

    /// Query-string auth (a presigned URL). `headers` must include `Host`; every header given is signed.
    /// - Parameters:
    ///   - payloadHash: `UNSIGNED-PAYLOAD` for S3; other services sign the body hash.
    ///   - signSessionToken: whether `X-Amz-Security-Token` is part of the canonical query (S3: yes).
    public func presign(
        method: String, wirePath: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], expiresIn: Int64, time: SigningTime,
        payloadHash: String = SigV4.unsignedPayload, signSessionToken: Bool = true
    ) throws(SigningError) -> Signed {
        guard (1...SigV4.maxExpires).contains(expiresIn) else {
            throw SigningError(
                .invalidExpiry, "SigV4 expiry must be between 1 and 604800 seconds (7 days); got \(expiresIn)")
        }
        let signedHeaderNames = SigV4.canonicalHeaders(headers).signed
        var added: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", SigV4.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKeyId)/\(scope(time).string)"),
            ("X-Amz-Date", time.amzDate),
            ("X-Amz-Expires", String(expiresIn)),
            ("X-Amz-SignedHeaders", signedHeaderNames),
        ]
        if let token = credentials.sessionToken, signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        let result = sign(
            method: method, wirePath: wirePath, query: query + added, headers: headers, payloadHash: payloadHash,
            time: time)
        if let token = credentials.sessionToken, !signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(("X-Amz-Signature", result.signature))
        return Signed(
            canonicalRequest: result.canonicalRequest, stringToSign: result.stringToSign, signature: result.signature,
            signedHeaders: result.signedHeaders, added: added)
    }

    /// Authorization-header auth. `headers` must include `Host`. Adds `X-Amz-Date`, the security token when there is
    /// one (signed unless `signSessionToken` is false), and `x-amz-content-sha256` when `contentSHA256Header` is set (S3 always wants it).
    public func signHeaders(
        method: String, wirePath: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], payloadHash: String, time: SigningTime,
        contentSHA256Header: Bool = true, signSessionToken: Bool = true
    ) -> Signed {
        var added: [(name: String, value: String)] = [("X-Amz-Date", time.amzDate)]
        if contentSHA256Header { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken, signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        let result = sign(
            method: method, wirePath: wirePath, query: query, headers: headers + added, payloadHash: payloadHash,
            time: time)
        if let token = credentials.sessionToken, !signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        added.append(
            (
                "Authorization",
                "\(SigV4.algorithm) Credential=\(credentials.accessKeyId)/\(scope(time).string), "
                    + "SignedHeaders=\(result.signedHeaders), Signature=\(result.signature)"
            ))
        return Signed(
            canonicalRequest: result.canonicalRequest, stringToSign: result.stringToSign, signature: result.signature,
            signedHeaders: result.signedHeaders, added: added)
    }
}
