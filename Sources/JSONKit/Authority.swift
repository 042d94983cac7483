/// `host[:port]`: the authority of a URL (S3 endpoints, Redis URLs, credential, STS and JWKS URLs, the probe) and a
/// listen address, read by one parser with one loopback rule. It lives in JSONKit, the module with no dependencies,
/// because the lowest module that reads one (S3Signing, pure: JSONKit and Crypto only) cannot reach UVLoop.
///
/// The grammar, strict (RFC 3986's authority without user info, RFC 1123 host names):
/// - `[IPv6]` or `[IPv6]:port`: an RFC 4291 literal (an embedded IPv4 tail allowed), no zone; an IPv6 address is
///   only ever written in brackets, so the first `:` outside brackets always starts the port (`::1` and
///   `::1:8080` are refused, not guessed at).
/// - `name` or `name:port`: dot-separated labels of letters, digits and `-` (1 to 63 bytes, no `-` at either
///   end), at most 253 bytes. A strict dotted quad (four decimal parts 0-255, no leading zeros) is an IPv4
///   address; other numeric spellings (`127.1`, `0x7f.1`, `127.0001.0.1`) stay names, which the resolver reads as
///   it likes: they are never loopback here, and S3Endpoint still sees they end in a number.
/// - port: 1 to 5 decimal digits, no sign, no leading zero; 1...65535, and 0 (any free port) only for a listener,
///   which must give one. `host:` (an empty port) is refused.
public struct Authority: Hashable, Sendable, CustomStringConvertible {
    public enum Host: Hashable, Sendable {
        /// A host name, lowercased.
        case name(String)
        /// A dotted-quad IPv4 address: its 4 bytes.
        case ipv4([UInt8])
        /// An IPv6 literal (written in brackets): its 16 bytes.
        case ipv6([UInt8])
    }

    /// Whether the authority names a peer to connect to (port optional, 1...65535) or a socket to listen on (port
    /// required, 0...65535: 0 lets the system pick).
    public enum Use: Sendable { case connect, listen }

    public let host: Host
    /// The host as written, lowercased, without brackets: what a socket call or a resolver takes.
    public let hostText: String
    public let port: Int?

    public static let maxHostLength = 253

    /// The host as it appears in a URL or a `Host` header: IPv6 in brackets.
    public var uriHost: String {
        if case .ipv6 = host { return "[\(hostText)]" }
        return hostText
    }

    /// `host[:port]` as in a URL.
    public var description: String { port.map { "\(uriHost):\($0)" } ?? uriHost }

    /// Reads `text`; the error says what is wrong in words a config error can quote.
    public init(parsing text: some StringProtocol, for use: Use = .connect) throws(AuthorityError) {
        let bytes = Array(text.utf8)
        var hostBytes: ArraySlice<UInt8>
        var portBytes: ArraySlice<UInt8>?
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")) else { throw .init("IPv6 host has no closing ]") }
            hostBytes = bytes[1..<close]
            let after = bytes[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { throw .init("unexpected characters after the IPv6 host") }
                portBytes = after.dropFirst()
            }
            guard let address = IPLiteral.ipv6(hostBytes) else { throw .init("IPv6 host is malformed") }
            host = .ipv6(address)
        } else {
            // An IPv6 address without brackets (`::1`, `fe80::1`) is named as such, not read as a host and a port.
            guard IPLiteral.ipv6(bytes[...]) == nil else { throw .init("an IPv6 host must be in brackets") }
            if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
                hostBytes = bytes[..<colon]
                portBytes = bytes[(colon + 1)...]
            } else {
                hostBytes = bytes[...]
            }
            guard !hostBytes.isEmpty else { throw .init("host is empty") }
            guard hostBytes.count <= Self.maxHostLength else { throw .init("host is longer than \(Self.maxHostLength) bytes") }
            guard Self.isHostName(hostBytes) else { throw .init("host must be a DNS name, an IPv4 address or an [IPv6] address") }
            host = IPLiteral.ipv4(hostBytes).map(Host.ipv4) ?? .name(String(decoding: hostBytes.map(ASCII.lowercased), as: UTF8.self))
        }
        hostText = String(decoding: hostBytes.map(ASCII.lowercased), as: UTF8.self)
        let range = use == .listen ? 0...65535 : 1...65535
        guard let portBytes else {
            guard use == .connect else { throw .init("a port is required") }
            port = nil
            return
        }
        guard let value = Self.decimal(portBytes), range.contains(value) else {
            throw .init("port must be a number in \(range.lowerBound)...\(range.upperBound)")
        }
        port = value
    }

    /// The one loopback rule: `localhost`, 127.0.0.0/8 as a dotted quad, `::1` in any of its spellings, and
    /// IPv4-mapped `::ffff:127.x.y.z`. Nothing else, so a name that only resolves to loopback, or an odd numeric
    /// spelling, is not loopback (the rule loosens checks, so it answers no when in doubt).
    public var isLoopback: Bool {
        switch host {
        case .name(let name): return name == "localhost"
        case .ipv4(let bytes): return bytes[0] == 127
        case .ipv6(let bytes):
            if bytes == IPLiteral.ipv6Loopback { return true }
            return bytes.starts(with: IPLiteral.v4MappedPrefix) && bytes[12] == 127
        }
    }

    /// Letters, digits and `-` in dot-separated labels of 1 to 63 bytes, no `-` at a label's start or end.
    static func isHostName(_ bytes: ArraySlice<UInt8>) -> Bool {
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63, label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-"),
                label.allSatisfy({ ASCII.isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
            else { return false }
        }
        return true
    }

    /// 1 to 5 digits, no sign, no leading zero (except `0`).
    static func decimal(_ digits: ArraySlice<UInt8>) -> Int? {
        guard (1...5).contains(digits.count), digits.allSatisfy(ASCII.isDigit) else { return nil }
        guard digits.count == 1 || digits.first != UInt8(ascii: "0") else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}

/// Why an authority was refused.
public struct AuthorityError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
