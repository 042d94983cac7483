#if canImport(Glibc)
import Glibc
#endif
import JSONKit
import Testing
import TestSupport

/// The one authority parser: the exact cases on which the six former parsers disagreed, and its IP literal reader
/// checked against libc's `inet_pton` on seeded random spellings.
struct AuthorityTests {
    static func parse(_ text: String, _ use: Authority.Use = .connect) -> Result<Authority, AuthorityError> {
        Result { () throws(AuthorityError) in try Authority(parsing: text, for: use) }
    }

    static func refusal(_ text: String, _ use: Authority.Use = .connect) -> String? {
        if case .failure(let error) = parse(text, use) { return error.message }
        return nil
    }

    @Test func bracketedIPv6WithPortZeroIsOnlyForAListener() throws {
        #expect(Self.refusal("[::1]:0") == "port must be a number in 1...65535")
        let listen = try Authority(parsing: "[::1]:0", for: .listen)
        #expect(listen.hostText == "::1" && listen.port == 0 && listen.uriHost == "[::1]")
        #expect(listen.description == "[::1]:0")
    }

    @Test func bracketedIPv6WithoutAPortConnectsButCannotListen() throws {
        let connect = try Authority(parsing: "[::1]")
        #expect(connect.host == .ipv6(Array(repeating: 0, count: 15) + [1]) && connect.port == nil && connect.isLoopback)
        #expect(Self.refusal("[::1]", .listen) == "a port is required")
    }

    /// An IPv6 address is only ever written in brackets: `::1` is refused, never read as host ":" and port 1 (the
    /// old listen parser split on the last colon) or as an empty host.
    @Test(arguments: ["::1", "::1:8080", "0:0:0:0:0:0:0:1", "fe80::1"])
    func unbracketedIPv6IsRefused(_ text: String) {
        #expect(Self.refusal(text) == "an IPv6 host must be in brackets")
        #expect(Self.refusal(text, .listen) == "an IPv6 host must be in brackets")
    }

    @Test(arguments: [
        ("host:", "port must be a number in 1...65535"), ("host:65536", "port must be a number in 1...65535"),
        ("host:0", "port must be a number in 1...65535"), ("host:+1", "port must be a number in 1...65535"),
        ("host:080", "port must be a number in 1...65535"), ("host:1:2", "port must be a number in 1...65535"),
        ("host:123456", "port must be a number in 1...65535"), (":80", "host is empty"), ("", "host is empty"),
        ("[::1", "IPv6 host has no closing ]"), ("[::1]x", "unexpected characters after the IPv6 host"),
        ("[::1]:", "port must be a number in 1...65535"), ("[]", "IPv6 host is malformed"),
        ("[127.0.0.1]", "IPv6 host is malformed"), ("[fe80::1%25eth0]", "IPv6 host is malformed"),
        ("[1:2:3:4:5:6:7:8:9]", "IPv6 host is malformed"), ("[1::2::3]", "IPv6 host is malformed"),
        ("ho_st", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
        ("-a.b", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
        ("a..b", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
        ("a.", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
    ])
    func malformedAuthoritiesSayWhatIsWrong(_ text: String, _ message: String) {
        #expect(Self.refusal(text) == message)
    }

    @Test func portsAreOneToFiveDigitsWithoutALeadingZero() throws {
        #expect(try Authority(parsing: "host:65535").port == 65535)
        #expect(try Authority(parsing: "host:1").port == 1)
        #expect(try Authority(parsing: "h:0", for: .listen).port == 0)
        #expect(Self.refusal("h:65536", .listen) == "port must be a number in 0...65535")
        #expect(Self.refusal("h:00", .listen) == "port must be a number in 0...65535")
    }

    /// The one loopback rule, where the two former `isLoopback` disagreed (`0:0:0:0:0:0:0:1` was loopback to one,
    /// `127.0001.0.1` to the other).
    @Test(arguments: [
        ("localhost", true), ("LOCALHOST:80", true), ("127.0.0.1", true), ("127.255.0.9:1", true), ("[::1]", true),
        ("[0:0:0:0:0:0:0:1]", true), ("[0::1]", true), ("[::ffff:127.0.0.1]", true), ("[::FFFF:7f00:1]", true),
        ("127.0001.0.1", false), ("127.1", false), ("0x7f.0.0.1", false), ("2130706433", false), ("128.0.0.1", false),
        ("[::2]", false), ("[::ffff:128.0.0.1]", false), ("[::127.0.0.1]", false), ("localhost.example.com", false),
        ("127.0.0.1.example.com", false), ("[fe80::1]", false),
    ])
    func loopbackIsOneRule(_ text: String, _ loopback: Bool) throws {
        #expect(try Authority(parsing: text).isLoopback == loopback)
    }

    @Test func strictDottedQuadsAreAddressesAndOtherNumericSpellingsAreNames() throws {
        #expect(try Authority(parsing: "10.0.0.5:8333").host == .ipv4([10, 0, 0, 5]))
        for text in ["127.0001.0.1", "127.1", "0177.0.0.1", "256.0.0.1", "1.2.3.4.5"] {
            #expect(try Authority(parsing: text).host == .name(text), "\(text)")
        }
        #expect(try Authority(parsing: "S3.Example.COM").host == .name("s3.example.com"))
    }

    /// Seeded random IPv6 spellings (groups of 1-4 hex digits in either case, a `::` anywhere, an IPv4 tail):
    /// the pure reader answers exactly what glibc's `inet_pton(AF_INET6)` answers, bytes included.
    @Test func ipv6ReaderAgreesWithInetPton() {
        var random = SplitMix64(seed: 0x5EED_A07)
        let pieces = ["0", "1", "ff", "FFFF", "abcd", "12345", "g", "", "0000", "fe80", "127.0.0.1", "1.2.3", "01.2.3.4"]
        var accepted = 0
        for _ in 0..<20_000 {
            var groups: [String] = []
            for _ in 0..<Int.random(in: 1...9, using: &random) { groups.append(pieces.randomElement(using: &random)!) }
            var text = groups.joined(separator: ":")
            if Bool.random(using: &random) {
                let at = Int.random(in: 0...groups.count, using: &random)
                text = (groups[..<at].joined(separator: ":")) + "::" + (groups[at...].joined(separator: ":"))
            }
            var address = in6_addr()
            let libc = inet_pton(AF_INET6, text, &address) == 1 ? withUnsafeBytes(of: &address) { Array($0) } : nil
            let ours: [UInt8]? = if case .success(let a) = Self.parse("[\(text)]"), case .ipv6(let bytes) = a.host { bytes } else { nil }
            #expect(ours == libc, "\(text)")
            if libc != nil { accepted += 1 }
        }
        #expect(accepted > 1_000)
    }
}
