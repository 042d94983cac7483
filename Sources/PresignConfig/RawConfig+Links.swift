extension RawConfig {
    /// `links:`.
    struct RawLinks: Decodable {
        var publicBaseURL: String
        var sqlitePath: String?
        var urlTTL: Int64?
        var busyTimeoutMs: Int?
        var maxLivePerCaller: Int?
        var rateLimit: RawLinkLimits?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case publicBaseURL = "public_base_url"
            case sqlitePath = "sqlite_path"
            case urlTTL = "url_ttl"
            case busyTimeoutMs = "busy_timeout_ms"
            case maxLivePerCaller = "max_live_per_caller"
            case rateLimit = "rate_limit"
        }
    }

    /// `links.rate_limit:`: the limits of the anonymous `/l/{id}` route.
    struct RawLinkLimits: Decodable {
        var perAddress: RawLinkRate?
        var perLink: RawLinkRate?
        var trustedProxies: [String]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case perAddress = "per_address"
            case perLink = "per_link"
            case trustedProxies = "trusted_proxies"
        }
    }

    /// One bucket's shape, as in a caller's `rate_limit`.
    struct RawLinkRate: Decodable {
        var perSecond: Double
        var burst: Double

        enum CodingKeys: String, CodingKey, CaseIterable {
            case perSecond = "per_second"
            case burst
        }
    }
}

extension RawConfig.RawLinks {
    init(publicBaseURL: String, sqlitePath: String) {
        self.publicBaseURL = publicBaseURL
        self.sqlitePath = sqlitePath
    }
}
