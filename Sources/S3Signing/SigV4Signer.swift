import Crypto

/// Signs requests with SigV4 for one credential set, region and service, caching derived keys.
/// Everything is built in byte buffers; strings are made only when a caller asks for a stage.
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
        let canonicalRequestBytes: [UInt8]
        let canonicalQueryRange: Range<Int>
        let stringToSignBytes: [UInt8]
        public let signature: String
        public let signedHeaders: String
        /// Query-string auth: the parameters to add to the URL (decoded values), signature last.
        /// Header auth: the headers to add to the request, Authorization last.
        public let added: [(name: String, value: String)]

        public var canonicalRequest: String { String(decoding: canonicalRequestBytes, as: UTF8.self) }
        public var stringToSign: String { String(decoding: stringToSignBytes, as: UTF8.self) }
        /// The canonical (sorted, encoded) query; for presigned URLs it is also the URL's query minus the signature.
        public var canonicalQuery: String {
            String(decoding: canonicalRequestBytes[canonicalQueryRange], as: UTF8.self)
        }
    }

    struct Stages {
        var canonicalRequest: [UInt8]
        var canonicalQuery: Range<Int>
        var stringToSign: [UInt8]
        /// Lower-case hex, 64 bytes.
        var signature: [UInt8]
    }

    /// Stages 1-4 on byte buffers. `writeQuery` appends the canonical query.
    func sign(
        method: String, wirePath: String, canonicalHeaders: [UInt8], signedHeaders: [UInt8], payloadHash: String,
        time: SigningTime, writeQuery: (inout [UInt8]) -> Void
    ) -> Stages {
        var request: [UInt8] = []
        request.reserveCapacity(384 + wirePath.utf8.count + canonicalHeaders.count)
        request += method.utf8
        request.append(UInt8(ascii: "\n"))
        if pathRule == .s3 {
            request += (wirePath.isEmpty ? "/" : wirePath).utf8
        } else {
            request += SigV4.canonicalURI(wirePath: wirePath, rule: pathRule).utf8
        }
        request.append(UInt8(ascii: "\n"))
        let queryStart = request.count
        writeQuery(&request)
        let queryRange = queryStart..<request.count
        request.append(UInt8(ascii: "\n"))
        request += canonicalHeaders
        request.append(UInt8(ascii: "\n"))
        request += signedHeaders
        request.append(UInt8(ascii: "\n"))
        request += payloadHash.utf8

        var toSign: [UInt8] = []
        toSign.reserveCapacity(160)
        toSign += SigV4.algorithm.utf8
        toSign.append(UInt8(ascii: "\n"))
        time.appendAmzDate(to: &toSign)
        toSign.append(UInt8(ascii: "\n"))
        let scopeStart = toSign.count
        appendScope(time, to: &toSign)
        let dateStamp = String(decoding: toSign[scopeStart..<(scopeStart + 8)], as: UTF8.self)
        toSign.append(UInt8(ascii: "\n"))
        SHA256.hash(data: request).withUnsafeBytes { PercentEncoding.appendHex(raw: $0, to: &toSign) }

        var mac = keyCache.entry(
            secret: credentials.secretAccessKey, dateStamp: dateStamp, region: region, service: service
        ).mac
        mac.update(data: toSign)
        var signature: [UInt8] = []
        signature.reserveCapacity(64)
        mac.finalize().withUnsafeBytes { PercentEncoding.appendHex(raw: $0, to: &signature) }
        return Stages(canonicalRequest: request, canonicalQuery: queryRange, stringToSign: toSign, signature: signature)
    }

    /// `20150830/us-east-1/service/aws4_request`
    func appendScope(_ time: SigningTime, to out: inout [UInt8]) {
        time.appendDateStamp(to: &out)
        out.append(UInt8(ascii: "/"))
        out += region.utf8
        out.append(UInt8(ascii: "/"))
        out += service.utf8
        out += "/aws4_request".utf8
    }

    func credentialValue(_ time: SigningTime) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        out += credentials.accessKeyId.utf8
        out.append(UInt8(ascii: "/"))
        appendScope(time, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The query parameters SigV4 adds, in canonical (byte) order. Values are written straight into the buffer.
    enum AuthParameter: CaseIterable {
        case algorithm, credential, date, expires, securityToken, signedHeaders

        /// `allCases` as a stored array: the synthesized one is built (allocated) on every call.
        static let ordered: [AuthParameter] = allCases

        var encodedName: String {
            switch self {
            case .algorithm: return "X-Amz-Algorithm"
            case .credential: return "X-Amz-Credential"
            case .date: return "X-Amz-Date"
            case .expires: return "X-Amz-Expires"
            case .securityToken: return "X-Amz-Security-Token"
            case .signedHeaders: return "X-Amz-SignedHeaders"
            }
        }
    }

    /// Writes the canonical query for a presigned request: the caller's parameters merged, in sorted order, with
    /// the SigV4 parameters, whose values are encoded in place without building intermediate strings.
    func writePresignQuery(
        user: [(name: String, value: String)], expiresIn: Int64, signedHeaders: [UInt8], time: SigningTime,
        includeToken: Bool, to out: inout [UInt8]
    ) {
        var encoded = EncodedQuery(user)
        var first = true
        for parameter in AuthParameter.ordered {
            if parameter == .securityToken && (!includeToken || credentials.sessionToken == nil) { continue }
            encoded.write(before: parameter.encodedName, to: &out, first: &first)
            if !first { out.append(UInt8(ascii: "&")) }
            first = false
            out += parameter.encodedName.utf8
            out.append(UInt8(ascii: "="))
            switch parameter {
            case .algorithm:
                out += SigV4.algorithm.utf8
            case .credential:
                PercentEncoding.append(credentials.accessKeyId, to: &out)
                out += "%2F".utf8
                time.appendDateStamp(to: &out)
                out += "%2F".utf8
                PercentEncoding.append(region, to: &out)
                out += "%2F".utf8
                PercentEncoding.append(service, to: &out)
                out += "%2Faws4_request".utf8
            case .date:
                time.appendAmzDate(to: &out)
            case .expires:
                out += String(expiresIn).utf8
            case .securityToken:
                PercentEncoding.append(credentials.sessionToken ?? "", to: &out)
            case .signedHeaders:
                for byte in signedHeaders {
                    if byte == UInt8(ascii: ";") { out += "%3B".utf8 } else { out.append(byte) }
                }
            }
        }
        encoded.write(before: nil, to: &out, first: &first)
    }

    /// The shared core of query-string auth.
    func presignStages(
        method: String, wirePath: String, query: [(name: String, value: String)], host: String? = nil,
        headers: [(name: String, value: String)], expiresIn: Int64, time: SigningTime, payloadHash: String,
        signSessionToken: Bool
    ) throws(SigningError) -> (stages: Stages, signedHeaders: [UInt8]) {
        guard (1...SigV4.maxExpires).contains(expiresIn) else {
            throw SigningError(
                .invalidExpiry, "SigV4 expiry must be between 1 and 604800 seconds (7 days); got \(expiresIn)")
        }
        var canonicalHeaders: [UInt8] = []
        var signedHeaders: [UInt8] = []
        canonicalHeaders.reserveCapacity(128)
        SigV4.appendCanonicalHeaders(host: host, headers, canonical: &canonicalHeaders, signed: &signedHeaders)
        let stages = sign(
            method: method, wirePath: wirePath, canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaders,
            payloadHash: payloadHash, time: time
        ) { out in
            writePresignQuery(
                user: query, expiresIn: expiresIn, signedHeaders: signedHeaders, time: time,
                includeToken: signSessionToken, to: &out)
        }
        return (stages, signedHeaders)
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
        let (stages, signedHeaders) = try presignStages(
            method: method, wirePath: wirePath, query: query, headers: headers, expiresIn: expiresIn, time: time,
            payloadHash: payloadHash, signSessionToken: signSessionToken)
        let signedNames = String(decoding: signedHeaders, as: UTF8.self)
        var added: [(name: String, value: String)] = [
            ("X-Amz-Algorithm", SigV4.algorithm),
            ("X-Amz-Credential", credentialValue(time)),
            ("X-Amz-Date", time.amzDate),
            ("X-Amz-Expires", String(expiresIn)),
            ("X-Amz-SignedHeaders", signedNames),
        ]
        if let token = credentials.sessionToken { added.append(("X-Amz-Security-Token", token)) }
        let signature = String(decoding: stages.signature, as: UTF8.self)
        added.append(("X-Amz-Signature", signature))
        return Signed(
            canonicalRequestBytes: stages.canonicalRequest, canonicalQueryRange: stages.canonicalQuery,
            stringToSignBytes: stages.stringToSign, signature: signature, signedHeaders: signedNames, added: added)
    }

    /// Authorization-header auth. `headers` must include `Host`. Adds `X-Amz-Date`, the security token when there is
    /// one (signed unless `signSessionToken` is false), and `x-amz-content-sha256` when `contentSHA256Header` is set
    /// (S3 always wants it).
    public func signHeaders(
        method: String, wirePath: String, query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)], payloadHash: String, time: SigningTime,
        contentSHA256Header: Bool = true, signSessionToken: Bool = true
    ) -> Signed {
        var added: [(name: String, value: String)] = [("X-Amz-Date", time.amzDate)]
        if contentSHA256Header { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken, signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        var canonicalHeaders: [UInt8] = []
        var signedHeaders: [UInt8] = []
        SigV4.appendCanonicalHeaders(headers + added, canonical: &canonicalHeaders, signed: &signedHeaders)
        let stages = sign(
            method: method, wirePath: wirePath, canonicalHeaders: canonicalHeaders, signedHeaders: signedHeaders,
            payloadHash: payloadHash, time: time
        ) { SigV4.appendCanonicalQuery(query, to: &$0) }
        if let token = credentials.sessionToken, !signSessionToken { added.append(("X-Amz-Security-Token", token)) }
        let signedNames = String(decoding: signedHeaders, as: UTF8.self)
        let signature = String(decoding: stages.signature, as: UTF8.self)
        added.append(
            (
                "Authorization",
                "\(SigV4.algorithm) Credential=\(credentialValue(time)), SignedHeaders=\(signedNames), "
                    + "Signature=\(signature)"
            ))
        return Signed(
            canonicalRequestBytes: stages.canonicalRequest, canonicalQueryRange: stages.canonicalQuery,
            stringToSignBytes: stages.stringToSign, signature: signature, signedHeaders: signedNames, added: added)
    }
}
