import Crypto
import JSONKit

/// Signature Version 2 (HMAC-SHA1) in the AWS and S3for.me dialects. They differ only in the query parameter that
/// names the access key.
public struct SigV2Signer: Sendable {
    public enum Dialect: String, Sendable, CaseIterable {
        case aws
        case s3fm

        /// The query parameter naming the access key on presigned URLs and POST forms.
        public var accessKeyParameter: String { self == .aws ? "AWSAccessKeyId" : "S3fmAccessKeyId" }
    }

    /// Sub-resources and response overrides that belong in the canonical resource.
    public static let signedSubresources: Set<String> = [
        "accelerate", "acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
        "policy", "requestPayment", "restore", "tagging", "torrent", "uploadId", "uploads", "versionId", "versioning",
        "versions", "website", "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
    ]

    public let credentials: Credentials
    public let dialect: Dialect

    public init(credentials: Credentials, dialect: Dialect) {
        self.credentials = credentials
        self.dialect = dialect
    }

    /// `resourcePath` (wire-encoded, bucket included even for virtual hosts) plus the signed sub-resources, sorted,
    /// with decoded values. An empty value is written as the bare name (`?uploads`, never `?uploads=`): servers read
    /// the parsed query, where `uploads` and `uploads=` are the same (SeaweedFS 4.48 refuses `?uploads=` signed).
    public static func canonicalResource(resourcePath: String, query: [(name: String, value: String?)]) -> String {
        let interesting = query.filter { signedSubresources.contains($0.name) }.sorted { $0.name < $1.name }
        guard !interesting.isEmpty else { return resourcePath }
        var out = resourcePath + "?"
        for (index, item) in interesting.enumerated() {
            if index > 0 { out += "&" }
            out += item.name
            if let value = item.value, !value.isEmpty {
                out += "="
                out += value
            }
        }
        return out
    }

    /// `x-amz-*` headers, lower-cased, values trimmed and repeated names joined by commas, sorted, one per line.
    public static func canonicalAmzHeaders(_ headers: [(name: String, value: String)]) -> String {
        var merged: [(String, String)] = []
        for (name, value) in headers {
            let lower = name.lowercased()
            guard lower.hasPrefix("x-amz-") else { continue }
            let clean = SigV4.trimAll(value)
            if let index = merged.firstIndex(where: { $0.0 == lower }) {
                merged[index].1 += "," + clean
            } else {
                merged.append((lower, clean))
            }
        }
        merged.sort { $0.0 < $1.0 }
        return merged.map { "\($0.0):\($0.1)\n" }.joined()
    }

    /// The SigV2 string to sign. `dateOrExpires` is the `Date` header for header auth, or `Expires` (epoch seconds)
    /// for query auth; it is empty when `x-amz-date` is sent.
    public static func stringToSign(
        method: String, headers: [(name: String, value: String)], dateOrExpires: String, canonicalResource: String
    ) -> String {
        func first(_ name: String) -> String {
            headers.first { $0.name.lowercased() == name }.map { SigV4.trimAll($0.value) } ?? ""
        }
        return "\(method)\n\(first("content-md5"))\n\(first("content-type"))\n\(dateOrExpires)\n"
            + canonicalAmzHeaders(headers) + canonicalResource
    }

    /// Base64 HMAC-SHA1 of `stringToSign`.
    public func signature(stringToSign: String) -> String {
        let key = SymmetricKey(data: Array(credentials.secretAccessKey.utf8))
        var message = stringToSign
        let mac = message.withUTF8 { HMAC<Insecure.SHA1>.authenticationCode(for: $0, using: key) }
        return Base64.encode(Array(mac))
    }

    /// Query-string auth. Returns the parameters to append (decoded values): signed `x-amz-*`, Content-Type and
    /// Content-MD5 headers and the session token travel in the query too, then the key id, signature and expiry.
    public func presign(
        method: String, resourcePath: String, query: [(name: String, value: String?)],
        headers: [(name: String, value: String)], expires: SigningTime
    ) -> (stringToSign: String, added: [(name: String, value: String)]) {
        var headers = headers
        if let token = credentials.sessionToken {
            headers.removeAll { $0.name.lowercased() == "x-amz-security-token" }
            headers.append(("x-amz-security-token", token))
        }
        let resource = Self.canonicalResource(resourcePath: resourcePath, query: query)
        let expiresText = String(expires.epochSeconds)
        let toSign = Self.stringToSign(
            method: method, headers: headers, dateOrExpires: expiresText, canonicalResource: resource)
        var added: [(name: String, value: String)] = [
            (dialect.accessKeyParameter, credentials.accessKeyId),
            ("Signature", signature(stringToSign: toSign)),
            ("Expires", expiresText),
        ]
        for (name, value) in headers {
            let lower = name.lowercased()
            if lower.hasPrefix("x-amz-") || lower == "content-type" || lower == "content-md5",
                !added.contains(where: { $0.name == lower })
            {
                added.append((lower, value))
            }
        }
        return (toSign, added)
    }

    /// Authorization-header auth: returns the headers to add (`Date`, the token, `Authorization`).
    public func signHeaders(
        method: String, resourcePath: String, query: [(name: String, value: String?)],
        headers: [(name: String, value: String)], time: SigningTime
    ) -> (stringToSign: String, added: [(name: String, value: String)]) {
        var all = headers
        var added: [(name: String, value: String)] = []
        let hasAmzDate = headers.contains { $0.name.lowercased() == "x-amz-date" }
        if !hasAmzDate { added.append(("Date", time.httpDate)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        all += added
        let resource = Self.canonicalResource(resourcePath: resourcePath, query: query)
        let toSign = Self.stringToSign(
            method: method, headers: all, dateOrExpires: hasAmzDate ? "" : time.httpDate, canonicalResource: resource)
        added.append(("Authorization", "AWS \(credentials.accessKeyId):\(signature(stringToSign: toSign))"))
        return (toSign, added)
    }
}
