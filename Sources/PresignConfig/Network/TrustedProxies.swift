import JSONKit

/// Who a request came from, for limits on anonymous routes: the socket peer, unless the peer is one of the
/// configured trusted proxies. Then `X-Forwarded-For` is read from the right (each proxy appends the address it
/// was reached from), and the client is the rightmost entry that is not itself a trusted proxy; entries to its
/// left were written by the client and are never read. When every entry read is a trusted proxy, the leftmost one
/// is the client. An entry that must be read and is not a bare IP address (empty, a port, `unknown`), or a chain
/// of more than `maxHops` trusted proxies, makes the peer the client: a malformed header never earns a new
/// address. A peer outside the list gets no say: its `X-Forwarded-For` is ignored.
public struct TrustedProxies: Sendable, Equatable {
    public let networks: [IPNetwork]
    /// At most this many entries are read from the right.
    public static let maxHops = 32

    public init(_ networks: [IPNetwork]) { self.networks = networks }

    public func trusts(_ address: IPAddress) -> Bool { networks.contains { $0.contains(address) } }

    /// The client's address, from the peer's text and the values of every `X-Forwarded-For` header in the order
    /// received (several headers are one list, as RFC 9110 says). Nil only when the peer itself is not an address.
    public func client(peer: String, forwardedFor: [String]) -> IPAddress? {
        guard let peerAddress = IPAddress(peer) else { return nil }
        guard !networks.isEmpty, trusts(peerAddress), !forwardedFor.isEmpty else { return peerAddress }
        var read = 0
        var leftmost = peerAddress
        for header in forwardedFor.reversed() {
            for entry in header.split(separator: ",", omittingEmptySubsequences: false).reversed() {
                read += 1
                guard read <= Self.maxHops, let address = IPAddress(ASCII.trimmed(entry)) else { return peerAddress }
                if !trusts(address) { return address }
                leftmost = address
            }
        }
        return leftmost
    }
}
