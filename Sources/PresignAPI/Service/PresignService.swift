import PresignConfig
import JSONKit
import Foundation
import HTTPServer
import Logging
import S3Client
import S3Signing
import Synchronization

/// The presign API: caller auth, rate limits, policy, signing, audit and metrics, as route handlers of
/// `(HTTPRequest) -> HTTPResponse`. It runs synchronously on the worker loop that received the request.
/// `@unchecked Sendable`: `client` is assigned once at the end of `init` and never changed; everything else is
/// immutable, a Mutex, an Atomic, or a per-worker row touched only by its own loop.
public final class PresignService: @unchecked Sendable {
    /// The configuration in force, one generation per SIGHUP; each generation carries its own rate limiter.
    public let store: ConfigStore<RateLimiter>
    public let metrics: APIMetrics
    let workers: Int
    let clock: RequestClock
    let audit: Logger
    let logger: Logger
    let openAPI: [UInt8]
    /// The upload API's backend connections, one per backend per worker loop.
    let uploadConnections = S3ConnectionCache()
    /// The API's routes alone, for `respond`.
    private var client = InProcessClient(router: Router())

    public init(config: ServiceConfig, workers: Int, clock: RequestClock = .system, logger: Logger, audit: Logger) {
        let workers = max(workers, 1)
        store = ConfigStore(config, workers: workers) { RateLimiter(callers: $0.callers, workers: workers) }
        metrics = APIMetrics(workers: workers)
        self.workers = workers
        self.clock = clock
        self.logger = logger
        self.audit = audit
        openAPI = Array(OpenAPIDocument.yaml.utf8)
        var router = Router()
        install(into: &router)
        client = InProcessClient(router: router)
    }

    /// The newest configuration (tests, the command line).
    public var config: ServiceConfig { store.latest }

    /// Installs a new configuration (SIGHUP). Requests already running finish with the old one.
    public func replace(_ config: ServiceConfig) { store.replace(config) }

    typealias Snapshot = ConfigStore<RateLimiter>.Generation

    // MARK: Routes

    /// Puts the API routes into a router: the server's, or the in-process client's (`respond`).
    public func install(into router: inout Router) {
        func add(_ method: String, _ path: String, _ label: String, _ body: @escaping @Sendable (HTTPRequest, Snapshot) -> HTTPResponse) {
            router.add(method, path) { [unowned self] request, _ in self.serve(label, request, body) }
        }
        add("POST", "/v1/presign", "/v1/presign", presign)
        add("OPTIONS", "/v1/presign", "/v1/presign", preflight)
        add("POST", "/v1/presign/batch", "/v1/presign/batch", batch)
        add("OPTIONS", "/v1/presign/batch", "/v1/presign/batch", preflight)
        func later(_ method: String, _ path: String, _ label: String, _ body: @escaping @Sendable (HTTPRequest, ResponseContext, Snapshot, @escaping (HTTPResponse) -> Void) -> HTTPResponse?) {
            router.add(method, path) { [unowned self] request, context in self.serveLater(label, request, context, body) }
        }
        later("POST", "/v1/uploads", "/v1/uploads", createUpload)
        add("POST", "/v1/uploads/{upload}/parts", "/v1/uploads/parts", signParts)
        later("GET", "/v1/uploads/{upload}/parts", "/v1/uploads/parts", listUploadParts)
        later("POST", "/v1/uploads/{upload}/complete", "/v1/uploads/complete", completeUpload)
        later("DELETE", "/v1/uploads/{upload}", "/v1/uploads", abortUpload)
        for path in ["/v1/uploads", "/v1/uploads/{upload}/parts", "/v1/uploads/{upload}/complete", "/v1/uploads/{upload}"] {
            add("OPTIONS", path, "/v1/uploads") { [unowned self] request, snapshot in preflight(request, snapshot, methods: ["GET", "POST", "DELETE"]) }
        }
        add("GET", "/metrics", "/metrics") { [unowned self] _, _ in
            HTTPResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.render())
        }
        add("GET", "/openapi.yaml", "/openapi.yaml") { [unowned self] _, _ in
            HTTPResponse(status: .ok, headers: [("Content-Type", "application/yaml")], body: openAPI)
        }
    }

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
