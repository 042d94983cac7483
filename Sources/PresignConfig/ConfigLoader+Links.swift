import S3Signing

extension ConfigLoader {
    static func links(_ raw: RawConfig.RawLinks, redis: Bool) throws(ConfigError) -> ServiceConfig.Links {
        var base = raw.publicBaseURL
        while base.hasSuffix("/") { base.removeLast() }
        let endpoint: S3Endpoint
        do { endpoint = try S3Endpoint(parsing: base) } catch {
            throw ConfigError("links.public_base_url", "must be scheme://host[:port] (http or https, no path): \(error.message)")
        }
        guard base.utf8.count <= 512, base.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), !base.contains("?"), !base.contains("#"),
            !base.contains("@"), endpoint.scheme == "http" || endpoint.scheme == "https"
        else { throw ConfigError("links.public_base_url", "must be an http(s) URL of visible ASCII with no user, query or fragment (at most 512 bytes)") }
        var links: ServiceConfig.Links
        if let path = raw.sqlitePath {
            if redis { throw ConfigError("links.sqlite_path", "links live in Redis when state.redis is set; leave sqlite_path out") }
            guard !path.isEmpty, path.utf8.count <= 4096, !path.utf8.contains(0), !path.hasPrefix("file:"), path != ":memory:" else {
                throw ConfigError("links.sqlite_path", "must be a file path (not empty, not a URI or :memory:, at most 4096 bytes)")
            }
            let ttl = try ConfigBounds.check(raw.urlTTL ?? 60, ConfigBounds.linkURLTTL, path: "links.url_ttl")
            let busy = try ConfigBounds.check(raw.busyTimeoutMs ?? 50, ConfigBounds.linkBusyTimeoutMs, path: "links.busy_timeout_ms")
            links = .init(publicBaseURL: base, sqlitePath: path, urlTTL: ttl, busyTimeoutMillis: busy)
        } else {
            if !redis { throw ConfigError("links.sqlite_path", "is required (the SQLite file links are kept in), unless state.redis holds them") }
            let ttl = try ConfigBounds.check(raw.urlTTL ?? 60, ConfigBounds.linkURLTTL, path: "links.url_ttl")
            links = .init(publicBaseURL: base, sqlitePath: nil, urlTTL: ttl)
        }
        if let max = raw.maxLivePerCaller {
            links.maxLivePerCaller = try ConfigBounds.check(max, ConfigBounds.maxLiveLinks, path: "links.max_live_per_caller")
        }
        if let limits = raw.rateLimit {
            if let rate = limits.perAddress { links.perAddress = try Self.linkRate(rate, path: "links.rate_limit.per_address") }
            if let rate = limits.perLink { links.perLink = try Self.linkRate(rate, path: "links.rate_limit.per_link") }
            let proxies = limits.trustedProxies ?? []
            guard proxies.count <= ConfigBounds.maxTrustedProxies else {
                throw ConfigError("links.rate_limit.trusted_proxies", "at most \(ConfigBounds.maxTrustedProxies) networks; got \(proxies.count)")
            }
            var networks: [IPNetwork] = []
            for (index, text) in proxies.enumerated() {
                let path = "links.rate_limit.trusted_proxies[\(index)]"
                switch IPNetwork.parse(text) {
                case .success(let network): networks.append(network)
                case .failure(.notAnAddress):
                    throw ConfigError(path, "must be an IP address or CIDR block (10.0.0.0/8, 2001:db8::/32); got '\(text.prefix(64))'")
                case .failure(.hostBits):
                    throw ConfigError(path, "has bits set past its prefix length; got '\(text)'")
                }
            }
            links.trustedProxies = TrustedProxies(networks)
        }
        return links
    }

    static func linkRate(_ raw: RawConfig.RawLinkRate, path: String) throws(ConfigError) -> Caller.RateLimit {
        Caller.RateLimit(
            perSecond: try ConfigBounds.check(raw.perSecond, ConfigBounds.ratePerSecond, path: "\(path).per_second"),
            burst: try ConfigBounds.check(raw.burst, ConfigBounds.burst, path: "\(path).burst"))
    }
}
