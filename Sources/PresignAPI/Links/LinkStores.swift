import PresignConfig
import RedisClient
import ShareLinks

/// Where each configuration generation's share links live: the store its `links:` and `state.redis` name (`.live`:
/// SQLite, or Redis on the service's link connections), or a store a test makes (an in-memory `LinkStore` that
/// answers later on the request's loop, fails or lies). Asked once per generation, only when `links:` is set.
public struct LinkStores: Sendable {
    let make: @Sendable (ServiceConfig, RedisConnectionPool) -> (any LinkStore)?

    /// `make(config)` gives the store of a generation whose config has `links:`.
    public init(_ make: @escaping @Sendable (ServiceConfig) -> any LinkStore) {
        self.make = { config, _ in config.links == nil ? nil : make(config) }
    }

    private init(live: Void) {
        make = { config, pool in
            guard let links = config.links else { return nil }
            if let redis = config.state?.redis { return RedisLinkStore(pool: pool, settings: redis) }
            guard let path = links.sqlitePath else { return nil }
            return SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: links.busyTimeoutMillis))
        }
    }

    public static let live = LinkStores(live: ())
}
