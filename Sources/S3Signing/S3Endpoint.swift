import JSONKit

/// A parsed `scheme://host[:port]` endpoint. Parsing is strict: anything else is a `SigningError`.
public struct S3Endpoint: Sendable, Hashable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int?
    /// `host[:port]`, the port only when it is not the scheme's default: the `Host` header value.
    public let authority: String
    /// True for bracketed IPv6 literals and for any host that ends in a number, which covers every IPv4 notation
    /// `inet_aton` and libcurl accept (dotted decimal, octal and hex parts, fewer than four parts, one number).
    /// Such a host cannot carry a bucket subdomain, and is never a DNS name.
    public let isIPAddress: Bool

    public init(scheme: String, host: String, port: Int? = nil) {
        self.scheme = scheme
        self.host = host
        self.port = port
        authority = port.map { "\(host):\($0)" } ?? host
        isIPAddress = Self.isIPLiteral(host)
    }

    /// IPv6 in brackets, or a host whose last dot-separated label is a number (decimal, `0`-octal or `0x`-hex).
    /// Resolvers read every such host as an IPv4 address (`inet_aton` needs all parts numeric, and the WHATWG URL
    /// standard treats any host ending in a number as IPv4), so refusing "ends in a number" refuses them all.
    static func isIPLiteral(_ host: String) -> Bool {
        if host.hasPrefix("[") { return true }
        var labels = host.split(separator: ".", omittingEmptySubsequences: false)
        // "127.0.0.1." is the same address: a trailing dot does not make it a name.
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard let last = labels.last else { return false }
        return isNumber(last)
    }

    /// A C-style number as `inet_aton` reads one part: decimal, octal with a leading 0, hex with 0x (any length).
    static func isNumber(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty else { return false }
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        func isHex(_ b: UInt8) -> Bool {
            isDigit(b) || (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "f")) || (b >= UInt8(ascii: "A") && b <= UInt8(ascii: "F"))
        }
        if bytes.count >= 2, bytes[0] == UInt8(ascii: "0"), bytes[1] == UInt8(ascii: "x") || bytes[1] == UInt8(ascii: "X") {
            return bytes.dropFirst(2).allSatisfy(isHex)  // "0x" alone is 0 to inet_aton
        }
        return bytes.allSatisfy(isDigit)
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
        guard !rest.contains(where: { "/?#@ ".contains($0) }) else {
            throw fail("only scheme, host and port are allowed (no path, query, user info or spaces)")
        }
        let authority: Authority
        do { authority = try Authority(parsing: rest) } catch { throw fail(error.message) }
        let port = authority.port == (scheme == "https" ? 443 : 80) ? nil : authority.port
        self.init(scheme: scheme, host: authority.uriHost, port: port)
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
