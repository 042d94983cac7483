import PresignConfig
import PresignCore
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

    init(config: ServiceConfig, workers: Int, redis pool: RedisConnectionPool, keySets: RemoteKeySets) {
        rateLimiter = RateLimiter(callers: config.callers, workers: workers)
        linkClientLimiter = KeyedRateLimiter(workers: workers)
        linkLimiter = KeyedRateLimiter(workers: workers)
        apiKeys = APIKeyIndex(config.callers)
        verifiedTokens = VerifiedTokens(workers: workers)
        remoteKeys = keySets.sets(for: config)
        if let links = config.links, let redis = config.state?.redis {
            self.links = RedisLinkStore(pool: pool, settings: redis)
        } else if let links = config.links, let path = links.sqlitePath {
            self.links = SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: links.busyTimeoutMillis))
        } else {
            links = nil
        }
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
    /// Each worker's Redis connection for the rate limiter (fleet mode); the link store has its own pool.
    let redisPool: RedisConnectionPool
    /// The upload API's backend connections, one per backend per worker loop.
    let uploadConnections = S3ConnectionCache()
    /// When each worker last logged a link-store or Redis failure (monotonic ns), so trouble logs once a second.
    let storeErrorLogged: PerWorker<[UInt64]>
    /// The API's routes alone, for `respond`.
    private var client = InProcessClient(router: Router())

    public init(config: ServiceConfig, workers: Int, clock: RequestClock = .system, logger: Logger, audit: Logger, logOutput: LineOutput? = nil) {
        let workers = max(workers, 1)
        let metrics = APIMetrics(workers: workers, logOutput: logOutput)
        let pool = RedisConnectionPool { [metrics] worker in metrics.redisHooks(worker: worker) }
        // Links get their own connection per worker: anonymous GET /l/{id} traffic filling a connection's
        // in-flight budget, or timing it out, must not take the rate limiter down with it (503s, or no limit at
        // all under on_error: allow).
        let linkPool = RedisConnectionPool { [metrics] worker in metrics.redisHooks(worker: worker) }
        let keySets = RemoteKeySets(workers: workers, clock: clock, logger: logger, metrics: metrics)
        store = ConfigStore(config, workers: workers) { ServiceState(config: $0, workers: workers, redis: linkPool, keySets: keySets) }
        redisPool = pool
        storeErrorLogged = PerWorker(count: workers) { _ in Array(repeating: 0, count: Trouble.allCases.count) }
        self.metrics = metrics
        self.workers = workers
        self.clock = clock
        self.logger = logger
        self.audit = audit
        self.logOutput = logOutput
        openAPI = Array(OpenAPIDocument.yaml.utf8)
        var router = Router()
        install(into: &router)
        client = InProcessClient(router: router)
    }

    /// The newest configuration (tests, the command line).
    public var config: ServiceConfig { store.latest }

    /// Installs a new configuration (SIGHUP). Requests already running finish with the old one.
    public func replace(_ config: ServiceConfig) {
        // A rotating backend whose source did not change keeps its current set from the first request on: the
        // new cell gets it before any worker can see the new generation (the refresher would only carry it over
        // on its next tick, and requests in between would answer 503 CredentialsUnavailable).
        let previous = store.latest
        for (name, backend) in config.backends {
            guard let cell = backend.cell, cell.latest == nil, let old = previous.backends[name]?.cell,
                old.source == cell.source, old.margin == cell.margin, let set = old.latest?.set
            else { continue }
            cell.publish(set)
        }
        store.replace(config)
    }

    typealias Snapshot = ConfigStore<ServiceState>.Generation

    // MARK: Routes

    /// Puts the API routes into a router: the server's, or the in-process client's (`respond`). Handlers are
    /// named unapplied (`PresignService.presign`) and applied to a weak `self` per request: the service owns its
    /// in-process router, so a handler that held `self` strongly would be a retain cycle, and a handler runs from a
    /// socket callback, so an unowned `self` would be an unchecked reference across that boundary. A request that
    /// finds the service gone gets 503.
    public func install(into router: inout Router) {
        typealias Now = @Sendable (PresignService) -> (HTTPRequest, Snapshot) -> HTTPResponse
        typealias Later = @Sendable (PresignService) -> (HTTPRequest, ResponseContext, Snapshot, @escaping (HTTPResponse) -> Void) -> HTTPResponse?
        typealias Guarded = @Sendable (PresignService) -> (HTTPRequest, Authenticated, ResponseContext, Snapshot, @escaping (HTTPResponse) -> Void) -> HTTPResponse?
        typealias GuardedNow = @Sendable (PresignService) -> (HTTPRequest, Authenticated, Snapshot) -> HTTPResponse
        func add(_ method: String, _ path: String, _ label: String, _ handler: @escaping Now) {
            router.add(method, path) { [weak self] request, _ in
                guard let self else { return PresignService.gone }
                return self.serve(label, request, handler(self))
            }
        }
        func later(_ method: String, _ path: String, _ label: String, _ handler: @escaping Later) {
            router.add(method, path) { [weak self] request, context in
                guard let self else { return PresignService.gone }
                return self.serveLater(label, request, context, handler(self))
            }
        }
        /// A route for authenticated callers: credentials are checked and one unit of the caller's rate limit is
        /// taken (in process, or in Redis, answered later) before the handler runs with the caller.
        func guarded(_ method: String, _ path: String, _ label: String, _ handler: @escaping Guarded) {
            later(method, path, label) { service in
                { request, context, snapshot, answer in
                    let reply = LaterReply(answer)
                    service.admit(request, context, snapshot, reply: reply) { caller in
                        // A client that left while its credentials or rate limit were checked costs no more work.
                        guard context.isOpen else { return reply.send(PresignService.clientGone) }
                        if let now = handler(service)(request, caller, context, snapshot, reply.send) { reply.send(now) }
                    }
                    return reply.returned()
                }
            }
        }
        func guardedNow(_ method: String, _ path: String, _ label: String, _ handler: @escaping GuardedNow) {
            guarded(method, path, label) { service in { request, caller, _, snapshot, _ in handler(service)(request, caller, snapshot) } }
        }
        guardedNow("POST", "/v1/presign", "/v1/presign", PresignService.presign)
        add("OPTIONS", "/v1/presign", "/v1/presign", PresignService.preflight)
        later("POST", "/v1/presign/batch", "/v1/presign/batch", PresignService.batch)
        add("OPTIONS", "/v1/presign/batch", "/v1/presign/batch", PresignService.preflight)
        guarded("POST", "/v1/uploads", "/v1/uploads", PresignService.createUpload)
        guardedNow("POST", "/v1/uploads/{upload}/parts", "/v1/uploads/parts", PresignService.signParts)
        guarded("GET", "/v1/uploads/{upload}/parts", "/v1/uploads/parts", PresignService.listUploadParts)
        guarded("POST", "/v1/uploads/{upload}/complete", "/v1/uploads/complete", PresignService.completeUpload)
        guarded("DELETE", "/v1/uploads/{upload}", "/v1/uploads", PresignService.abortUpload)
        let uploadPaths = [
            ("/v1/uploads", ["POST"]), ("/v1/uploads/{upload}/parts", ["GET", "POST"]),
            ("/v1/uploads/{upload}/complete", ["POST"]), ("/v1/uploads/{upload}", ["DELETE"]),
        ]
        for (path, methods) in uploadPaths {
            add("OPTIONS", path, "/v1/uploads") { service in { request, snapshot in service.preflight(request, snapshot, methods: methods) } }
        }
        guarded("POST", "/v1/links", "/v1/links", PresignService.createLink)
        guarded("GET", "/v1/links/{id}", "/v1/links/{id}", PresignService.linkInfo)
        guarded("DELETE", "/v1/links/{id}", "/v1/links/{id}", PresignService.revokeLink)
        later("GET", "/l/{id}", "/l/{id}", PresignService.openLink)
        for (path, methods) in [("/v1/links", ["POST"]), ("/v1/links/{id}", ["GET", "DELETE"])] {
            add("OPTIONS", path, path) { service in { request, snapshot in service.preflight(request, snapshot, methods: methods) } }
        }
        add("GET", "/metrics", "/metrics") { service in
            { _, _ in HTTPResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: service.metrics.render()) }
        }
        add("GET", "/openapi.yaml", "/openapi.yaml") { service in
            { _, _ in HTTPResponse(status: .ok, headers: [("Content-Type", "application/yaml")], body: service.openAPI) }
        }
    }

    /// What a request whose client left is "answered" with: dropped by its context, never sent.
    static let clientGone = HTTPResponse(error: APIError(.clientGone, "the client left"))
    static let gone = HTTPResponse(error: APIError(.serviceStopped, "the presign service has stopped"))

    /// Answers a request the way the server does, through the same routes and the server's own 404/405 mapping,
    /// without sockets (tests, benchmarks).
    public func respond(_ request: HTTPRequest) -> HTTPResponse { client.respond(request) }

    /// Runs a handler with this worker's config snapshot (looked up once per request), adds the CORS answer
    /// headers, and records the request's metrics.
    private func serve(_ route: String, _ request: HTTPRequest, _ body: (HTTPRequest, Snapshot) -> HTTPResponse) -> HTTPResponse {
        let start = clock.monotonicNanos()
        let snapshot = store.generation(worker: request.worker)
        return finish(route, request, snapshot, start: start, body(request, snapshot))
    }

    /// The same for a handler that may answer later (after an S3 call): the CORS headers and metrics go on the
    /// answer whenever it comes.
    private func serveLater(
        _ route: String, _ request: HTTPRequest, _ context: ResponseContext,
        _ body: (HTTPRequest, ResponseContext, Snapshot, @escaping (HTTPResponse) -> Void) -> HTTPResponse?
    ) -> HTTPResponse? {
        let start = clock.monotonicNanos()
        let snapshot = store.generation(worker: request.worker)
        let now = body(request, context, snapshot) { [self] response in
            context.respond(finish(route, request, snapshot, start: start, response))
        }
        return now.map { finish(route, request, snapshot, start: start, $0) }
    }

    private func finish(_ route: String, _ request: HTTPRequest, _ snapshot: Snapshot, start: UInt64, _ response: HTTPResponse) -> HTTPResponse {
        var response = response
        if let cors = snapshot.config.cors, let origin = request.head.header("Origin"), cors.allows(origin),
            request.head.method != "OPTIONS"
        {
            response.headers.append(("Access-Control-Allow-Origin", origin))
            response.headers.append(("Vary", "Origin"))
            response.headers.append(("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, WWW-Authenticate"))
        }
        let end = clock.monotonicNanos()
        metrics.request(worker: request.worker, route: route, status: response.status.code, nanos: end &- start)
        return response
    }


}
