import PresignConfig
import Testing
import TestSupport

/// The client-address rule of the `/l/{id}` limits: addresses and CIDR blocks parse strictly, and
/// `X-Forwarded-For` names the client only through trusted proxies, read from the right.
struct TrustedProxiesTests {
    static func net(_ text: String) -> IPNetwork { try! IPNetwork.parse(text).get() }
    static func ip(_ text: String) -> IPAddress { IPAddress(text)! }

    @Test func addressesParseStrictly() {
        for good in ["1.2.3.4", "0.0.0.0", "255.255.255.255", "::1", "::", "2001:db8::1", "::ffff:10.0.0.1", "fe80::1:2:3:4"] {
            #expect(IPAddress(good) != nil, "\(good)")
        }
        for bad in ["", " 1.2.3.4", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4:80", "[::1]", "::1%eth0",
                    "unknown", "_hidden", "2001:db8::1::2", "1.2.3.4/8", "12345::", String(repeating: "1", count: 60)] {
            #expect(IPAddress(bad) == nil, "\(bad)")
        }
        // An IPv4 peer and its IPv4-mapped IPv6 form are one address, printed as IPv4.
        #expect(Self.ip("::ffff:10.0.0.1") == Self.ip("10.0.0.1"))
        #expect(Self.ip("::ffff:10.0.0.1").description == "10.0.0.1")
        #expect(Self.ip("2001:DB8::0001").description == "2001:db8::1")
    }

    @Test func limitKeysAreTheIPv4AddressOrTheIPv6Slash64() {
        #expect(Self.ip("10.1.2.3").limitKey == [4, 10, 1, 2, 3])
        #expect(Self.ip("2001:db8:1:2:aaaa::1").limitKey == [6, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2])
        #expect(Self.ip("2001:db8:1:2:aaaa::1").limitKey == Self.ip("2001:db8:1:2:ffff:ffff:ffff:ffff").limitKey)
        #expect(Self.ip("2001:db8:1:2::1").limitKey != Self.ip("2001:db8:1:3::1").limitKey)
    }

    @Test func networksParseAndMatch() {
        #expect(Self.net("10.0.0.0/8").contains(Self.ip("10.255.0.1")))
        #expect(!Self.net("10.0.0.0/8").contains(Self.ip("11.0.0.1")))
        #expect(Self.net("10.0.0.0/8").contains(Self.ip("::ffff:10.9.9.9")))
        #expect(Self.net("192.168.1.7").contains(Self.ip("192.168.1.7")))
        #expect(!Self.net("192.168.1.7").contains(Self.ip("192.168.1.8")))
        #expect(Self.net("0.0.0.0/0").contains(Self.ip("8.8.8.8")))
        #expect(!Self.net("0.0.0.0/0").contains(Self.ip("2001:db8::1")))
        #expect(Self.net("2001:db8::/32").contains(Self.ip("2001:db8:ffff::1")))
        #expect(!Self.net("2001:db8::/32").contains(Self.ip("2001:db9::1")))
        #expect(!Self.net("2001:db8::/32").contains(Self.ip("10.0.0.1")))
        #expect(Self.net("::/0").contains(Self.ip("2001:db8::1")))
        #expect(Self.net("10.0.0.0/8").description == "10.0.0.0/8")
        #expect(Self.net("2001:db8::/32").description == "2001:db8::/32")
        #expect(Self.net("172.16.0.0/12").contains(Self.ip("172.31.255.255")))
        #expect(!Self.net("172.16.0.0/12").contains(Self.ip("172.32.0.0")))
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/08", "2001:db8::/129", "/8", "x/8", "10.0.0.0/8/8", "10.0.0.0/ 8"] {
            #expect(IPNetwork.parse(bad) == .failure(.notAnAddress), "\(bad)")
        }
        for bad in ["10.0.0.1/8", "2001:db8::1/32", "10.128.0.0/8"] {
            #expect(IPNetwork.parse(bad) == .failure(.hostBits), "\(bad)")
        }
    }

    static let proxies = TrustedProxies([net("10.0.0.0/8"), net("2001:db8:ffff::/48")])

    @Test func anUntrustedPeerIsTheClientWhateverItForwards() {
        #expect(Self.proxies.client(peer: "203.0.113.9", forwardedFor: ["198.51.100.1"]) == Self.ip("203.0.113.9"))
        #expect(Self.proxies.client(peer: "203.0.113.9", forwardedFor: ["10.0.0.1, 198.51.100.1"]) == Self.ip("203.0.113.9"))
        // No list: nobody is trusted.
        #expect(TrustedProxies([]).client(peer: "10.0.0.1", forwardedFor: ["198.51.100.1"]) == Self.ip("10.0.0.1"))
        #expect(Self.proxies.client(peer: "", forwardedFor: ["198.51.100.1"]) == nil)
    }

    @Test func aTrustedPeerNamesTheRightmostUntrustedEntry() {
        let p = Self.proxies
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["198.51.100.1"]) == Self.ip("198.51.100.1"))
        // The client's own spoofed entries sit to the left of the one the proxy wrote: never read.
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["1.1.1.1, 2.2.2.2, 198.51.100.1"]) == Self.ip("198.51.100.1"))
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["garbage, 198.51.100.1, 10.0.0.2,10.0.0.3"]) == Self.ip("198.51.100.1"))
        // Several headers are one list, in order.
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["1.1.1.1", "198.51.100.1, 10.0.0.2"]) == Self.ip("198.51.100.1"))
        #expect(p.client(peer: "::ffff:10.0.0.1", forwardedFor: ["2001:db8:1::5, 2001:db8:ffff:1::1"]) == Self.ip("2001:db8:1::5"))
        #expect(p.client(peer: "2001:db8:ffff::7", forwardedFor: ["\t192.0.2.1 "]) == Self.ip("192.0.2.1"))
        // All trusted: the leftmost.
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["10.0.0.9, 10.0.0.2"]) == Self.ip("10.0.0.9"))
        // No header: the peer.
        #expect(p.client(peer: "10.0.0.1", forwardedFor: []) == Self.ip("10.0.0.1"))
    }

    @Test func aMalformedEntryThatMustBeReadMakesThePeerTheClient() {
        let p = Self.proxies
        for header in ["", " ", "198.51.100.1,", "198.51.100.1, , 10.0.0.2", "unknown", "198.51.100.1:4711", "[2001:db8::1]",
                       "198.51.100.1;for=x", "1.1.1.1, 10.0.0.2, junk"] {
            #expect(p.client(peer: "10.0.0.1", forwardedFor: [header]) == Self.ip("10.0.0.1"), "\(header)")
        }
        // More than maxHops trusted entries to read: the peer.
        let long = Array(repeating: "10.0.0.2", count: TrustedProxies.maxHops).joined(separator: ",")
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["198.51.100.1," + long]) == Self.ip("10.0.0.1"))
        let fits = Array(repeating: "10.0.0.2", count: TrustedProxies.maxHops - 1).joined(separator: ",")
        #expect(p.client(peer: "10.0.0.1", forwardedFor: ["198.51.100.1," + fits]) == Self.ip("198.51.100.1"))
    }

    /// Seeded chains: a client, then any spoofed entries it likes, then a path of trusted proxies, each appending
    /// the address it was reached from. Whatever the client spoofed, the rule names the client; an untrusted last
    /// hop is the client itself.
    @Test func seededChainsNameTheRealClientWhateverIsSpoofed() {
        var random = SplitMix64(seed: 0x21_0004)
        func v4(trusted: Bool) -> String {
            trusted ? "10.\(Int.random(in: 0...255, using: &random)).\(Int.random(in: 0...255, using: &random)).\(Int.random(in: 1...254, using: &random))"
                : "\(Int.random(in: 11...99, using: &random)).\(Int.random(in: 0...255, using: &random)).0.\(Int.random(in: 1...254, using: &random))"
        }
        func v6(trusted: Bool) -> String {
            let tail = String(Int.random(in: 1...0xffff, using: &random), radix: 16)
            return trusted ? "2001:db8:ffff:\(tail)::1" : "2001:db8:\(String(Int.random(in: 1...0xfffe, using: &random), radix: 16))::\(tail)"
        }
        func address(trusted: Bool) -> String { Bool.random(using: &random) ? v4(trusted: trusted) : v6(trusted: trusted) }
        for round in 0..<2000 {
            let client = address(trusted: false)
            let spoofed = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                [address(trusted: false), address(trusted: true), "unknown", "", "1.2.3.4:80"].randomElement(using: &random)!
            }
            let hops = (0..<Int.random(in: 0...4, using: &random)).map { _ in address(trusted: true) }
            // The first proxy appends the client; each further proxy appends the one before it.
            var entries = spoofed + [client] + hops
            let peer: String
            if hops.isEmpty && Bool.random(using: &random) {
                peer = client  // the client talks to presignd directly, with a header of its own
                entries = spoofed + [address(trusted: false)]
            } else {
                peer = address(trusted: true)
            }
            let cut = Int.random(in: 0...entries.count, using: &random)
            let headers = cut == 0 || cut == entries.count
                ? [entries.joined(separator: Bool.random(using: &random) ? ", " : ",")]
                : [entries[..<cut].joined(separator: ","), entries[cut...].joined(separator: ", ")]
            #expect(Self.proxies.client(peer: peer, forwardedFor: headers) == Self.ip(client), "round \(round): \(peer) \(headers)")
        }
    }
}
