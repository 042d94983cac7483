import Crypto
import JSONKit

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
        var out: [UInt8] = []
        appendCanonicalQuery(parameters, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Byte-level form of `canonicalQuery`.
    static func appendCanonicalQuery(_ parameters: [(name: String, value: String)], to out: inout [UInt8]) {
        var encoded = EncodedQuery(parameters)
        var first = true
        encoded.write(before: nil, to: &out, first: &first)
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

/// Query parameters RFC 3986-encoded into one buffer and sorted by encoded name, then value: the canonical order.
/// `write(before:)` lets the presigner merge its own parameters in without building strings for them.
struct EncodedQuery {
    private var bytes: [UInt8] = []
    private var spans: [(start: Int, middle: Int, end: Int)] = []
    private var next = 0

    init(_ parameters: [(name: String, value: String)]) {
        guard !parameters.isEmpty else { return }
        bytes.reserveCapacity(parameters.count * 48)
        spans.reserveCapacity(parameters.count)
        for parameter in parameters {
            let start = bytes.count
            PercentEncoding.append(parameter.name, to: &bytes)
            let middle = bytes.count
            PercentEncoding.append(parameter.value, to: &bytes)
            spans.append((start, middle, bytes.count))
        }
        bytes.withUnsafeBufferPointer { buffer in
            spans.sort { a, b in
                let nameA = buffer[a.start..<a.middle]
                let nameB = buffer[b.start..<b.middle]
                if nameA.elementsEqual(nameB) {
                    return buffer[a.middle..<a.end].lexicographicallyPrecedes(buffer[b.middle..<b.end])
                }
                return nameA.lexicographicallyPrecedes(nameB)
            }
        }
    }

    /// Writes the not yet written `name=value` pairs whose name sorts before `name` (all of them for nil),
    /// each preceded by `&` unless it is the first of the whole query.
    mutating func write(before name: String?, to out: inout [UInt8], first: inout Bool) {
        while next < spans.count {
            let span = spans[next]
            if let name, !bytes[span.start..<span.middle].lexicographicallyPrecedes(name.utf8) { return }
            if !first { out.append(UInt8(ascii: "&")) }
            first = false
            out += bytes[span.start..<span.middle]
            out.append(UInt8(ascii: "="))
            out += bytes[span.middle..<span.end]
            next += 1
        }
    }
}
