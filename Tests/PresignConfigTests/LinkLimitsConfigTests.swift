import PresignConfig
import Testing

/// `links.max_live_per_caller` and `links.rate_limit`: defaults that are on, the values as written, and each
/// mistake as one exact `ConfigError`.
struct LinkLimitsConfigTests {
    static func yaml(_ links: String) -> String {
        ConfigLoaderTests.valid + "\nlinks: {public_base_url: \"https://share.example.com\", sqlite_path: /tmp/links.sqlite\(links)}\n"
    }

    static func load(_ links: String) async throws -> ServiceConfig.Links {
        try #require(try await ConfigLoader.load(yaml: yaml(links), secrets: SecretSource(environment: ConfigLoaderTests.environment)).links)
    }

    @Test func theLimitsAreOnByDefault() async throws {
        let links = try await Self.load("")
        #expect(links.maxLivePerCaller == 1000)
        #expect(links.perAddress.perSecond == 5 && links.perAddress.burst == 20)
        #expect(links.perLink.perSecond == 20 && links.perLink.burst == 100)
        #expect(links.trustedProxies.networks.isEmpty)
    }

    @Test func theLimitsAreReadAsWritten() async throws {
        let links = try await Self.load("""
            , max_live_per_caller: 3,
              rate_limit: {per_address: {per_second: 0.5, burst: 2}, per_link: {per_second: 7, burst: 9},
                           trusted_proxies: ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1"]}
            """)
        #expect(links.maxLivePerCaller == 3)
        #expect(links.perAddress.perSecond == 0.5 && links.perAddress.burst == 2)
        #expect(links.perLink.perSecond == 7 && links.perLink.burst == 9)
        #expect(links.trustedProxies.networks.map(\.description) == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.1/32"])
        // Only the part written changes.
        let partial = try await Self.load(", rate_limit: {per_link: {per_second: 1, burst: 1}}")
        #expect(partial.perAddress.perSecond == 5 && partial.perLink.burst == 1 && partial.maxLivePerCaller == 1000)
    }

    @Test func mistakesAreNamedExactly() async {
        let cases: [(String, String)] = [
            (", max_live_per_caller: 0", "links.max_live_per_caller: must be between 1 and 100000; got 0"),
            (", max_live_per_caller: 100001", "links.max_live_per_caller: must be between 1 and 100000; got 100001"),
            (", rate_limit: {per_address: {per_second: 0, burst: 1}}",
             "links.rate_limit.per_address.per_second: must be between 0.001 and 1000000; got 0"),
            (", rate_limit: {per_address: {per_second: .nan, burst: 1}}",
             "links.rate_limit.per_address.per_second: must be between 0.001 and 1000000; got nan"),
            (", rate_limit: {per_link: {per_second: 1, burst: 0.5}}",
             "links.rate_limit.per_link.burst: must be between 1 and 1000000; got 0.5"),
            (", rate_limit: {per_adress: {per_second: 1, burst: 1}}", "links.rate_limit.per_adress: unknown field"),
            (", rate_limit: {per_link: {per_second: 1, burst: 1, per: subject}}", "links.rate_limit.per_link.per: unknown field"),
            (", rate_limit: {trusted_proxies: [\"10.0.0.0/8\", \"10.0.0.0/33\"]}",
             "links.rate_limit.trusted_proxies[1]: must be an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32); got '10.0.0.0/33'"),
            (", rate_limit: {trusted_proxies: [proxy.internal]}",
             "links.rate_limit.trusted_proxies[0]: must be an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32); got 'proxy.internal'"),
            (", rate_limit: {trusted_proxies: [\"10.1.0.0/8\"]}",
             "links.rate_limit.trusted_proxies[0]: has bits set past its prefix length; got '10.1.0.0/8'"),
            (", rate_limit: {trusted_proxies: [\(Array(repeating: "\"10.0.0.1\"", count: 257).joined(separator: ","))]}",
             "links.rate_limit.trusted_proxies: at most 256 networks; got 257"),
        ]
        for (links, expected) in cases {
            #expect(await ConfigLoaderTests.error(Self.yaml(links)) == expected, "\(links)")
        }
    }
}
