import Crypto

/// AWS Signature Version 4, one function per stage so each can be checked against published vectors:
/// canonical request → string to sign → signing key → signature.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    /// S3 rejects presigned URLs valid for longer than seven days.
    public static let maxExpires: Int64 = 604_800

    /// How the request path becomes the canonical URI.
    public enum PathRule: Sendable, Hashable {
        /// S3: the path exactly as sent on the wire (already percent-encoded once); no normalization.
        case s3
        /// Every other service: optionally remove dot segments and empty segments, then percent-encode the wire path
        /// again (so `%` becomes `%25`).
        case generic(normalize: Bool)
    }

    /// The `date/region/service/aws4_request` scope.
    public struct Scope: Sendable, Hashable {
        public let dateStamp: String
        public let region: String
        public let service: String

        public init(dateStamp: String, region: String, service: String) {
            self.dateStamp = dateStamp
            self.region = region
            self.service = service
        }

        public var string: String { "\(dateStamp)/\(region)/\(service)/aws4_request" }
    }

    // MARK: Canonical pieces

    /// The canonical URI for `wirePath` under `rule`.
    public static func canonicalURI(wirePath: String, rule: PathRule) -> String {
        let path = wirePath.isEmpty ? "/" : wirePath
        switch rule {
        case .s3:
            return path
        case .generic(let normalize):
            let source = normalize ? normalizedPath(path) : path
            return PercentEncoding.encode(source, keepSlash: true)
        }
    }

    /// RFC 3986 dot-segment removal plus collapsing of empty segments, keeping a trailing slash.
    static func normalizedPath(_ path: String) -> String {
        var output: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        var result = "/" + output.joined(separator: "/")
        let endsInDirectory = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        if endsInDirectory && result != "/" { result += "/" }
        return result
    }

    /// Sorted `name=value` pairs, each RFC 3986 encoded, from decoded parameters.
    public static func canonicalQuery(_ parameters: [(name: String, value: String)]) -> String {
        var encoded = parameters.map { (PercentEncoding.encode($0.name), PercentEncoding.encode($0.value)) }
        encoded.sort { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
        var out = ""
        out.reserveCapacity(encoded.reduce(0) { $0 + $1.0.utf8.count + $1.1.utf8.count + 2 })
        for (index, pair) in encoded.enumerated() {
            if index > 0 { out += "&" }
            out += pair.0
            out += "="
            out += pair.1
        }
        return out
    }

    /// Lower-cased names, trimmed values with inner whitespace runs collapsed, repeated names listed once with
    /// their values joined by commas in the order given, sorted by name.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (
        canonical: String, signed: String
    ) {
        var merged: [(String, String)] = []
        merged.reserveCapacity(headers.count)
        for (name, value) in headers {
            let lower = name.lowercased()
            let clean = trimAll(value)
            if let index = merged.firstIndex(where: { $0.0 == lower }) {
                merged[index].1 += "," + clean
            } else {
                merged.append((lower, clean))
            }
        }
        merged.sort { $0.0 < $1.0 }
        var canonical = ""
        var signed = ""
        for (index, (name, value)) in merged.enumerated() {
            canonical += name
            canonical += ":"
            canonical += value
            canonical += "\n"
            if index > 0 { signed += ";" }
            signed += name
        }
        return (canonical, signed)
    }

    /// Trims and collapses runs of spaces, tabs and line breaks into one space.
    static func trimAll(_ value: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count)
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Stages

    /// Stage 1: the canonical request.
    public static func canonicalRequest(
        method: String, canonicalURI: String, canonicalQuery: String, canonicalHeaders: String,
        signedHeaders: String, payloadHash: String
    ) -> String {
        "\(method)\n\(canonicalURI)\n\(canonicalQuery)\n\(canonicalHeaders)\n\(signedHeaders)\n\(payloadHash)"
    }

    /// Stage 2: the string to sign.
    public static func stringToSign(canonicalRequest: String, amzDate: String, scope: Scope) -> String {
        "\(algorithm)\n\(amzDate)\n\(scope.string)\n\(sha256Hex(canonicalRequest))"
    }

    /// Stage 3: the derived signing key.
    public static func signingKey(secret: String, dateStamp: String, region: String, service: String) -> SymmetricKey {
        let kDate = hmac(key: SymmetricKey(data: Array(("AWS4" + secret).utf8)), dateStamp)
        let kRegion = hmac(key: SymmetricKey(data: kDate), region)
        let kService = hmac(key: SymmetricKey(data: kRegion), service)
        let kSigning = hmac(key: SymmetricKey(data: kService), "aws4_request")
        return SymmetricKey(data: kSigning)
    }

    /// Stage 4: the hex signature.
    public static func signature(stringToSign: String, signingKey: SymmetricKey) -> String {
        PercentEncoding.hex(hmac(key: signingKey, stringToSign))
    }

    static func hmac(key: SymmetricKey, _ message: String) -> HMAC<SHA256>.MAC {
        var message = message
        return message.withUTF8 { HMAC<SHA256>.authenticationCode(for: $0, using: key) }
    }

    public static func sha256Hex(_ text: String) -> String {
        var text = text
        return text.withUTF8 { PercentEncoding.hex(SHA256.hash(data: $0)) }
    }

    public static func sha256Hex(bytes: some Sequence<UInt8>) -> String {
        PercentEncoding.hex(SHA256.hash(data: Array(bytes)))
    }
}
