/// A request signed with header auth, ready to send: the URL, the method and every header to send (Host included).
public struct SignedRequest: Sendable {
    public let method: String
    public let url: String
    public let headers: [(name: String, value: String)]
    /// The string that was signed (SigV4's string to sign, or SigV2's), for tests and debugging.
    public let stringToSign: String
}

extension S3Presigner {
    /// The payload hash SigV4 uses for a body that is streamed and not hashed in advance.
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    /// SHA-256 of the empty body.
    public static let emptyPayload = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    /// Signs one request with header auth (`Authorization`) for this backend's signature version, addressed to its
    /// `endpoint` (never `publicEndpoint`: these requests are presignd's own). `query` holds extra decoded parameters
    /// (prefix, marker, ...); the operation's sub-resource (`acl`, `location`, `logging`) is added here. `method`
    /// replaces the operation's for requests that are not presignable operations (POST for CreateMultipartUpload and
    /// CompleteMultipartUpload). Pure: the time is a parameter.
    public func signRequest(
        _ operation: S3Operation, bucket: String = "", key: String = "", query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [], payloadHash: String = S3Presigner.emptyPayload,
        method: String? = nil, now: SigningTime
    ) throws(SigningError) -> SignedRequest {
        try S3Validation.check(headers: headers)
        try S3Validation.check(query: query)
        let target = try S3Target(
            endpoint: configuration.endpoint, addressing: configuration.addressing,
            vanityDomains: configuration.vanityDomains, bucket: bucket, key: key,
            scope: operation.scope)
        var urlQuery: [(name: String, value: String?)] = []
        if let sub = operation.subresource { urlQuery.append((sub, nil)) }
        for item in query { urlQuery.append((item.name, item.value)) }
        let url = String(decoding: target.url(query: urlQuery), as: UTF8.self)
        let method = method ?? operation.method
        let withHost = [("Host", target.authority)] + headers
        if let v2 {
            let signed = v2.signHeaders(
                method: method, resourcePath: target.resourcePath, query: urlQuery, headers: withHost, time: now)
            return SignedRequest(method: method, url: url, headers: withHost + signed.added, stringToSign: signed.stringToSign)
        }
        let signed = v4.signHeaders(
            method: method, wirePath: target.wirePath, query: urlQuery.map { ($0.name, $0.value ?? "") },
            headers: withHost, payloadHash: payloadHash, time: now)
        return SignedRequest(
            method: method, url: url, headers: withHost + signed.added,
            stringToSign: String(decoding: signed.stringToSignBytes, as: UTF8.self))
    }
}
