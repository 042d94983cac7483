import Foundation

/// An IPv4 or IPv6 address as 16 bytes (IPv4 as its IPv4-mapped IPv6 form, `::ffff:a.b.c.d`, so a v4 peer seen on
/// a dual-stack socket and the same peer on a v4 socket are one address). Parsed from text by `inet_pton`: IPv4 is
/// exactly four decimal parts with no leading zeros, IPv6 the RFC 4291 forms without a zone (`%eth0`). Nothing
/// else (ports, brackets, `unknown`, obfuscated names) is an address.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(_ text: some StringProtocol) {
        let text = String(text)
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        if !text.contains(":") {
            var v4 = in_addr()
            guard inet_pton(AF_INET, text, &v4) == 1 else { return nil }
            self.bytes = Self.mappedPrefix + withUnsafeBytes(of: &v4) { Array($0) }
        } else {
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
        }
    }

    init(bytes: [UInt8]) {
        precondition(bytes.count == 16)
        self.bytes = bytes
    }

    static let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF]

    /// True for an IPv4 address (and an IPv4-mapped IPv6 one).
    public var isV4: Bool { bytes.starts(with: Self.mappedPrefix) }

    /// The bytes a per-address rate limit is keyed by: the whole IPv4 address, or an IPv6 address's /64 (one
    /// subscriber's network: a host that owns a /64 must not get a fresh budget per address in it). A tag byte
    /// keeps the two families apart.
    public var limitKey: [UInt8] {
        isV4 ? [4] + bytes[12...] : [6] + bytes[..<8]
    }

    public var description: String {
        if isV4 { return bytes[12...].map(String.init).joined(separator: ".") }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: bytes) }
        var text = [CChar](repeating: 0, count: 64)
        guard inet_ntop(AF_INET6, &v6, &text, 64) != nil else { return "?" }
        return String(cString: text)
    }
}

/// An address block in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or one address (`/32` or `/128` implied).
public struct IPNetwork: Hashable, Sendable, CustomStringConvertible {
    public let address: IPAddress
    /// Prefix length over the 16-byte form (an IPv4 /8 is 96 + 8).
    public let prefix: Int

    public enum ParseError: Error, Equatable {
        case notAnAddress
        /// Bits are set past the prefix (`10.1.0.0/8`): probably a typo, refused rather than guessed.
        case hostBits
    }

    public static func parse(_ text: String) -> Result<IPNetwork, ParseError> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return .failure(.notAnAddress) }
        let width = address.isV4 ? 32 : 128
        var length = width
        if parts.count == 2 {
            guard !parts[1].isEmpty, parts[1].utf8.count <= 3, parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let number = Int(parts[1]), number <= width, parts[1] == String(number)
            else { return .failure(.notAnAddress) }
            length = number
        }
        let network = IPNetwork(address: address, prefix: length + (128 - width))
        guard network.masked(address) == address else { return .failure(.hostBits) }
        return .success(network)
    }

    init(address: IPAddress, prefix: Int) {
        self.address = address
        self.prefix = prefix
    }

    /// `other` with the bits past this network's prefix cleared.
    func masked(_ other: IPAddress) -> IPAddress {
        var bytes = other.bytes
        for index in 0..<16 {
            let keep = max(0, min(8, prefix - index * 8))
            bytes[index] &= keep == 0 ? 0 : UInt8(truncatingIfNeeded: 0xFF << (8 - keep))
        }
        return IPAddress(bytes: bytes)
    }

    public func contains(_ other: IPAddress) -> Bool { masked(other) == address }

    public var description: String {
        "\(address)/\(address.isV4 ? prefix - 96 : prefix)"
    }
}
