@testable import HTTPServer
import Testing

/// Two listeners share a port when their addresses are one by value, whatever the spelling, or either is a
/// wildcard: `serve` refuses that for the public and the admin listener (SO_REUSEPORT would let both bind and the
/// kernel would split the connections between their routes).
@Test(arguments: [
    ("[::1]:18090", "[0:0:0:0:0:0:0:1]:18090", true),
    ("[::1]:18090", "[::0001]:18090", true),
    ("127.0.0.1:18090", "[0::0]:18090", true),
    ("127.0.0.1:18090", "[0:0:0:0:0:0:0:0]:18090", true),
    ("127.0.0.1:18090", "[::ffff:127.0.0.1]:18090", true),
    ("127.0.0.1:18090", "[::ffff:7f00:1]:18090", true),
    ("[::ffff:127.0.0.1]:18090", "127.0.0.1:18090", true),
    ("127.0.0.1:18090", "[::ffff:0.0.0.0]:18090", true),
    ("127.0.0.1:18090", "0.0.0.0:18090", true),
    ("[::]:18090", "127.0.0.1:18090", true),
    ("127.0.0.1:18090", "127.0.0.1:18090", true),
    ("127.0.0.1:18090", "127.0.0.2:18090", false),
    ("127.0.0.1:18090", "127.0.0.1:18091", false),
    ("[::1]:18090", "127.0.0.1:18090", false),
    ("127.0.0.1:0", "127.0.0.1:0", false),
])
func listenersShareAPortByAddressNotSpelling(_ a: String, _ b: String, _ shared: Bool) throws {
    let first = try ListenAddress(parsing: a)
    let second = try ListenAddress(parsing: b)
    #expect(first.sharesPort(with: second) == shared)
    #expect(second.sharesPort(with: first) == shared)
}
