import Foundation
import HTTPServer
import LineLog
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Client
import S3Signing
import UVLoop

/// The admin path: REST over the seed's operations, proxied to a backend through `S3fmAuthConnection` on the
/// worker's own loop. Object bodies stream both ways with backpressure; lists and locations become JSON.
/// Every call needs `Authorization: Bearer <token>` (SHA-256 digests in the config, compared in constant time)
/// and is audit-logged.
///
/// Where things are: the endpoint rows and what each one starts (`AdminProxy+Routes`), bucket and object
/// operations (`+Buckets`, `+Objects`), streaming (`+Download`, `+Upload` with `UploadPump`), answers
/// (`AdminProxy+Responses`, `AdminJSON`), the per-loop backend connections (`+Connections`), auth and
/// audit (`+Auth`, `+Audit`).
public final class AdminProxy: Sendable {
    /// The configuration a worker serves with and the backends' signers built from it (one generation of the
    /// presign API's `ConfigStore`, read lock-free per worker).
    let generation: @Sendable (_ worker: Int) -> (config: ServiceConfig, signers: BackendSigners)
    let audit: Logger
    /// stdout as `presignd serve` writes it: whether an audit line fits now. Nil in tests: every line fits.
    let logOutput: LineOutput?
    /// Bytes queued for the client above which the download pauses curl, and below which it resumes.
    static let highWater = 1 << 20
    static let lowWater = 256 << 10
    /// A download's batch goes out once it holds this much while an earlier write is still on its way.
    static let downloadFlushBytes = 256 << 10
    /// curl's receive buffer for a download: one read takes up to this much (curl's default, 16 KiB, made the
    /// 512 MiB bench-proxy download 32,768 reads and writes).
    static let downloadReceiveBytes = 512 << 10
    /// Upload bytes buffered from the client before its socket stops being read.
    static let uploadHighWater = 1 << 20
    /// The largest ACL document a streamed object route collects before sending it.
    static let maxDocumentBytes = 1 << 20

    let connections: S3ConnectionCache
    /// The wall clock backend requests are signed and audited with (epoch seconds).
    let clock: @Sendable () -> Double

    /// `s3` and `clock` are the live ones unless a test runs the proxy in process against a fake S3 at a fixed time.
    public init(
        generation: @escaping @Sendable (_ worker: Int) -> (config: ServiceConfig, signers: BackendSigners), audit: Logger,
        logOutput: LineOutput? = nil, s3: S3Transports = .curl, clock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }
    ) {
        self.generation = generation
        self.audit = audit
        self.logOutput = logOutput
        connections = S3ConnectionCache(transports: s3)
        self.clock = clock
    }

    /// Checks the token, picks the backend, writes the audit line, then starts the route's operation. A response
    /// returned here answers at once; nil means the operation answers later through the context.
    func handle(_ request: HTTPRequest, _ context: ResponseContext, _ route: Route) -> HTTPResponse? {
        let (config, signers) = generation(request.worker)
        guard authorized(request, config) else {
            return HTTPResponse(error: Self.unauthorized)
        }
        let query = AdminCall.queryItems(request.head.query)
        let backend: ServiceConfig.Backend
        switch Self.backend(named: AdminCall.param("backend", in: query), in: config) {
        case .success(let chosen): backend = chosen
        case .failure(let refusal): return refusal.response
        }
        let seconds = clock()
        guard let connection = connection(backend, signers, worker: request.worker, now: seconds, on: context.eventLoop) else {
            return HTTPResponse(error: APIError.credentialsUnavailable(backend: backend.name))
        }
        let call = AdminCall(
            request: request, context: context, connection: connection, query: query,
            now: SigningTime(epochSeconds: Int64(seconds)))
        guard writeAudit(request: request, operation: route.operation(for: call), backend: backend.name,
                         bucket: route == .listBuckets ? nil : call.bucket, key: call.objectKey, now: call.now, config: config)
        else { return Self.auditUnavailable }
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
        case .failure(let choice):
            let error = choice.notFound ?? APIError(.invalidRequest, "backend: give ?backend= (several are configured)")
            return .failure(.init(response: HTTPResponse(error: error)))
        }
    }
}
