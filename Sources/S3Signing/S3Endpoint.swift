/// A parsed `scheme://host[:port]` endpoint. Parsing is strict: anything else is a `SigningError`.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?
    /// `host[:port]`, the port only when it is not the scheme's default: the `Host` header value.
    public let authority: String
    /// True for IPv4 dotted quads and bracketed IPv6 literals, which cannot carry a bucket subdomain.
    public let isIPAddress: Bool

    public init(scheme: String, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        authority = port.map { "\(host):\($0)" } ?? host
        isIPAddress = Self.isIPLiteral(host)
    }

    /// IPv6 in brackets, or four dot-separated decimal numbers 0-255.
    static func isIPLiteral(_ host: String) -> Bool {
        var parts = 0
        var value = 0
        var digits = 0
        for byte in host.utf8 {
            if byte == UInt8(ascii: "[") && parts == 0 && digits == 0 { return true }
            if byte == UInt8(ascii: ".") {
                guard digits > 0 else { return false }
                parts += 1
                value = 0
                digits = 0
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                digits += 1
                guard digits <= 3, value <= 255 else { return false }
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// Parses `http(s)://host[:port][/]`. IPv6 literals are written in brackets.
    public init(parsing text: String) throws(SigningError) {
        func fail(_ why: String) -> SigningError {
            SigningError(.invalidEndpoint, "invalid endpoint '\(text)': \(why)")
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") {
            scheme = "https"
        } else if lower.hasPrefix("http://") {
            scheme = "http"
        } else {
            throw fail("must start with http:// or https://")
        }
        var rest = Substring(text.dropFirst(scheme.count + 3))
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard !rest.isEmpty else { throw fail("missing host") }
        guard !rest.contains(where: { "/?#@ ".contains($0) }) else {
            throw fail("only scheme, host and port are allowed (no path, query, user info or spaces)")
        }
        var host: Substring
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else { throw fail("unterminated IPv6 literal") }
            host = rest[...close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("unexpected text after IPv6 literal") }
                portText = after.dropFirst()
            }
        } else if let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else { throw fail("missing host") }
        var port: Int?
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else { throw fail("bad port") }
            port = value == (scheme == "https" ? 443 : 80) ? nil : value
        }
        self.init(scheme: scheme, host: host.lowercased(), port: port)
    }

    public var description: String { "\(scheme)://\(authority)" }
}

/// How the bucket appears in the URL.
public enum Addressing: String, Sendable, CaseIterable, Codable {
    /// `https://host/bucket/key`
    case path
    /// `https://bucket.host/key` (the seed's SUBDOMAIN calling format)
    case virtual
    /// `https://bucket/key`: the bucket name is the host, for CNAME and CDN domains (the seed's VANITY format)
    case vanity
}
