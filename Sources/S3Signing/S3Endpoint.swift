/// A parsed `scheme://host[:port]` endpoint. Parsing is strict: anything else is a `SigningError`.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?

    public init(scheme: String, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
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

    /// `host[:port]`, the port only when it is not the scheme's default: the `Host` header value.
    public var authority: String { port.map { "\(host):\($0)" } ?? host }

    public var description: String { "\(scheme)://\(authority)" }

    /// True for IPv4 dotted quads and bracketed IPv6 literals, which cannot carry a bucket subdomain.
    public var isIPAddress: Bool {
        if host.hasPrefix("[") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { UInt8($0) != nil }
    }
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
