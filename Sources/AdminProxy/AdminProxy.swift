import Foundation
import HTTPServer
import LineLog
import Logging
import PresignConfig
import S3Client
import S3Signing

/// The admin path: REST over the seed's operations, proxied to a backend through `S3fmAuthConnection` on the
/// worker's own loop. Object bodies stream both ways with backpressure; lists and locations become JSON.
/// Every call needs `Authorization: Bearer <token>` (SHA-256 digests in the config, compared in constant time)
/// and is audit-logged.
///
/// Where things are: the route table and what each route starts (`AdminProxy+Routes`), bucket and object
/// operations (`+Buckets`, `+Objects`), streaming (`+Download`, `+Upload` with `UploadPump`), answers
/// (`AdminReply`, `AdminProxy+Responses`, `AdminJSON`), the per-loop backend connections (`+Connections`), auth and
/// audit (`+Auth`, `+Audit`).
public final class AdminProxy: Sendable {
    /// The configuration a worker serves with (the presign API's `ConfigStore`, read lock-free per worker).
    let config: @Sendable (_ worker: Int) -> ServiceConfig
    let audit: Logger
    /// stdout as `presignd serve` writes it: whether an audit line fits now. Nil in tests: every line fits.
    let logOutput: LineOutput?
    /// Bytes queued for the client above which the download pauses curl, and below which it resumes.
    static let highWater = 1 << 20
    static let lowWater = 256 << 10
    /// Upload bytes buffered from the client before its socket stops being read.
    static let uploadHighWater = 1 << 20
    /// The largest ACL document a streamed object route collects before sending it.
    static let maxDocumentBytes = 1 << 20

    let connections: S3ConnectionCache
    /// The wall clock backend requests are signed and audited with (epoch seconds).
    let clock: @Sendable () -> Double

    /// `s3` and `clock` are the live ones unless a test runs the proxy in process against a fake S3 at a fixed time.
    public init(
        config: @escaping @Sendable (_ worker: Int) -> ServiceConfig, audit: Logger, logOutput: LineOutput? = nil,
        s3: S3Transports = .curl, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.config = config
        self.audit = audit
        self.logOutput = logOutput
        connections = S3ConnectionCache(transports: s3)
        self.clock = clock
    }

    public func install(into router: inout Router) {
        for entry in Self.routes {
            let route = entry.route
            router.add(entry.method, entry.pattern, streamsBody: route.streamsBody) { [self] in handle($0, $1, route) }
        }
    }

    /// Checks the token, picks the backend, writes the audit line, then starts the route's operation. A response
    /// returned here answers at once; nil means the operation answers later through the context.
    private func handle(_ request: HTTPRequest, _ context: ResponseContext, _ route: Route) -> HTTPResponse? {
        let config = config(request.worker)
        guard authorized(request, config) else {
            return HTTPResponse.error(.unauthorized, code: "Unauthorized", message: "admin calls need Authorization: Bearer <admin token>",
                                      headers: [("WWW-Authenticate", #"Bearer realm="presignd-admin""#)])
        }
        let query = AdminCall.queryItems(request.head.query)
        let backend: ServiceConfig.Backend
        switch Self.backend(named: AdminCall.param("backend", in: query), in: config) {
        case .success(let chosen): backend = chosen
        case .failure(let refusal): return refusal.response
        }
        let seconds = clock()
        guard let connection = connection(backend, worker: request.worker, now: seconds, on: context.eventLoop) else {
            return HTTPResponse.error(
                .serviceUnavailable, code: "CredentialsUnavailable",
                message: "backend '\(backend.name)' has no usable credentials right now (they are being refreshed); retry later",
                headers: [("Retry-After", "5")])
        }
        let call = AdminCall(
            request: request, context: context, connection: connection, query: query,
            now: SigningTime(epochSeconds: Int64(seconds)))
        if config.auditLog {
            guard writeAudit(request: request, operation: route.operation(for: call), backend: backend.name,
                             bucket: route == .listBuckets ? nil : call.bucket, key: call.objectKey, now: call.now,
                             policy: config.auditOnBackpressure)
            else { return Self.auditUnavailable }
        }
        return start(route, call)
    }

    /// Why no backend was chosen, as the answer the client gets.
    struct BackendRefusal: Error {
        let response: HTTPResponse
    }

    /// `?backend=` names one; without it there must be exactly one configured.
    static func backend(named name: String?, in config: ServiceConfig) -> Result<ServiceConfig.Backend, BackendRefusal> {
        switch config.backend(named: name) {
        case .success(let chosen):
            return .success(chosen.backend)
        case .failure(.unknown(let name)):
            return .failure(.init(response: .error(.notFound, code: "BackendNotFound", message: "no backend named '\(name)'")))
        case .failure(.ambiguous):
            return .failure(.init(response: .error(.badRequest, code: "InvalidRequest", message: "backend: give ?backend= (several are configured)")))
        }
    }
}
