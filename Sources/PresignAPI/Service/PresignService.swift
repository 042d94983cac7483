import PresignConfig
import PresignCore
import PresignRuntime
import JSONKit
import Foundation
import HTTPServer
import LineLog
import Logging
import S3Client
import S3Signing
import RedisClient
import ShareLinks
import Synchronization
import UVLoop

/// What each configuration generation builds once: its rate limiter, and its link store (nil without `links:`).
/// A new generation opens its own store connections; the old ones close when the last request using them ends.
public final class ServiceState: Sendable {
    let rateLimiter: RateLimiter
    let links: (any LinkStore)?
    /// The `/l/{id}` buckets, per client address and per link.
    let linkClientLimiter: KeyedRateLimiter
    let linkLimiter: KeyedRateLimiter
    /// The `jwks_url` key sets of this generation's JWT callers, by `RemoteKeySets.name(issuer:url:)`.
    let remoteKeys: [String: RemoteKeySet]
    /// API-key callers by key digest, and each worker's recently verified JWTs.
    let apiKeys: APIKeyIndex
    let verifiedTokens: VerifiedTokens
    /// The audit log as this generation has it (`audit_log`, `audit_on_backpressure`): built once, not per line.
    let audit: AuditLog
    /// Each caller's rules by caller name: a link's maker, found at each `/l/{id}` without a search.
    let rulesByCaller: [String: [PolicyRule]]

    init(config: ServiceConfig, workers: Int, redis pool: RedisConnectionPool, keySets: RemoteKeySets, links: LinkStores, audit: AuditLog) {
        self.audit = audit
        rulesByCaller = Dictionary(config.callers.map { ($0.name, $0.rules) }, uniquingKeysWith: { first, _ in first })
        rateLimiter = RateLimiter(callers: config.callers, workers: workers)
        linkClientLimiter = KeyedRateLimiter(workers: workers)
        linkLimiter = KeyedRateLimiter(workers: workers)
        apiKeys = APIKeyIndex(config.callers)
        verifiedTokens = VerifiedTokens(workers: workers)
        remoteKeys = keySets.sets(for: config)
        self.links = links.make(config, pool)
    }
}

/// The presign API: caller auth, rate limits, policy, signing, audit and metrics, as route handlers of
/// `(HTTPRequest) -> HTTPResponse`. It runs synchronously on the worker loop that received the request.
/// `@unchecked Sendable`: `client` is assigned once at the end of `init` and never changed; everything else is
/// immutable, a Mutex, an Atomic, or a per-worker row touched only by its own loop.
public final class PresignService: @unchecked Sendable {
    /// The configuration in force, one generation per SIGHUP; each generation carries its own rate limiter.
    public let store: ConfigStore<ServiceState>
    public let metrics: APIMetrics
    let workers: Int
    let clock: RequestClock
    let audit: Logger
    let logger: Logger
    /// stdout as `presignd serve` writes it: whether an audit line fits now (`audit_on_backpressure`), and the
    /// dropped-line counts on /metrics. Nil in process (tests): every audit line fits.
    let logOutput: LineOutput?
    let openAPI: [UInt8]
    /// The fleet-wide rate limit (fleet mode): GCRA on each worker's own Redis connection (the link store has its
    /// own pool), or a test's.
    let sharedRateLimit: any SharedRateLimit
    /// How the JWKS key sets and the credential refresher fetch their documents: curl on the loop, or a test's.
    let fetcher: any HTTPFetching
    /// The upload API's backend connections, one per backend per worker loop.
    let uploadConnections: S3ConnectionCache
    /// When each worker last logged a link-store or Redis failure (monotonic ns), so trouble logs once a second.
    let storeErrorLogged: PerWorker<[UInt64]>
    /// Where new share-link ids come from: the CSPRNG (`LinkID.generate`); the replay corpus passes a fixed sequence.
    let newLinkID: @Sendable () -> LinkID
    /// The API's rows alone (no probes), for `respond`.
    private var client = InProcessClient(router: Router())

    public init(
        config: ServiceConfig, workers: Int, clock: RequestClock = .system, logger: Logger, audit: Logger, logOutput: LineOutput? = nil,
        linkIDs: @escaping @Sendable () -> LinkID = LinkID.generate, s3: S3Transports = .curl,
        links: LinkStores = .live, rateLimit: (any SharedRateLimit)? = nil, fetcher: any HTTPFetching = CurlFetch()
    ) {
        let workers = max(workers, 1)
        let metrics = APIMetrics(workers: workers, logOutput: logOutput)
        let pool = RedisConnectionPool { [metrics] worker in metrics.redisHooks(worker: worker) }
        // Links get their own connection per worker: anonymous GET /l/{id} traffic filling a connection's
        // in-flight budget, or timing it out, must not take the rate limiter down with it (503s, or no limit at
        // all under on_error: allow).
        let linkPool = RedisConnectionPool { [metrics] worker in metrics.redisHooks(worker: worker) }
        let keySets = RemoteKeySets(workers: workers, hooks: .init(
            monotonicNanos: clock.monotonicNanos, fetched: { [metrics] in metrics.jwksFetch(worker: $0, outcome: $1) }, logger: logger,
            fetcher: fetcher))
        store = ConfigStore(config, workers: workers) { [logOutput, audit] config in
            ServiceState(
                config: config, workers: workers, redis: linkPool, keySets: keySets, links: links,
                audit: AuditLog(
                    enabled: config.auditLog, refusesWhenFull: config.auditOnBackpressure == .refuse, output: logOutput, logger: audit))
        }
        sharedRateLimit = rateLimit ?? RedisRateLimit(pool: pool)
        self.fetcher = fetcher
        storeErrorLogged = PerWorker(count: workers) { _ in Array(repeating: 0, count: Trouble.allCases.count) }
        self.metrics = metrics
        self.workers = workers
        self.clock = clock
        self.logger = logger
        self.audit = audit
        self.logOutput = logOutput
        newLinkID = linkIDs
        uploadConnections = S3ConnectionCache(transports: s3)
        openAPI = Array(OpenAPIDocument.yaml.utf8)
        client = InProcessClient(router: Router(endpoints()))
    }

    /// The newest configuration (tests, the command line).
    public var config: ServiceConfig { store.latest }

    /// Installs a new configuration (SIGHUP). Requests already running finish with the old one.
    public func replace(_ config: ServiceConfig) {
        // The store carries a rotating backend's current set over to the new generation (`BackendSigners`).
        store.replace(config)
    }

    typealias Snapshot = ConfigStore<ServiceState>.Generation

    /// What a request whose client left is "answered" with: dropped by its context, never sent, so it has no error
    /// code (`APIError.Code` lists what reaches the wire); the metrics hook counts it as a 503.
    static let clientGone = HTTPResponse(status: .serviceUnavailable)
    static let gone = HTTPResponse(error: APIError(.serviceStopped, "the presign service has stopped"))

    /// Answers a request the way the server does, through the same routes and the server's own 404/405 mapping,
    /// without sockets (tests, benchmarks).
    public func respond(_ request: HTTPRequest) -> HTTPResponse { client.respond(request) }
}
