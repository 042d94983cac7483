import PresignConfig
import JSONKit
import Foundation
import HTTPServer
import Logging
import S3Signing
import Synchronization

/// Everything a request needs from outside: the clock (wall time for signing, monotonic for rate limits).
public struct RequestClock: Sendable {
    public var wallSeconds: @Sendable () -> Double
    public var monotonicNanos: @Sendable () -> UInt64

    public init(wallSeconds: @escaping @Sendable () -> Double, monotonicNanos: @escaping @Sendable () -> UInt64) {
        self.wallSeconds = wallSeconds
        self.monotonicNanos = monotonicNanos
    }

    public static let system = RequestClock(
        wallSeconds: { Date().timeIntervalSince1970 },
        monotonicNanos: { DispatchTime.now().uptimeNanoseconds })
}

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
            router.add(method, path) { [unowned self] request, _ in self.timed(label, request, body) }
        }
        add("POST", "/v1/presign", "/v1/presign", presign)
        add("OPTIONS", "/v1/presign", "/v1/presign", preflight)
        add("POST", "/v1/presign/batch", "/v1/presign/batch", batch)
        add("OPTIONS", "/v1/presign/batch", "/v1/presign/batch", preflight)
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
    private func timed(_ route: String, _ request: HTTPRequest, _ body: (HTTPRequest, Snapshot) -> HTTPResponse) -> HTTPResponse {
        let start = clock.monotonicNanos()
        let snapshot = store.generation(worker: request.worker)
        var response = body(request, snapshot)
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

    // MARK: CORS

    func preflight(_ request: HTTPRequest, _ snapshot: Snapshot) -> HTTPResponse {
        guard let origin = request.head.header("Origin") else {
            // A plain OPTIONS (no CORS): say what the resource supports.
            return HTTPResponse(status: .noContent, headers: [("Allow", "POST, OPTIONS")])
        }
        guard let cors = snapshot.config.cors, cors.allows(origin) else {
            return .error(.forbidden, code: "CORSOriginDenied", message: "origin \(origin) is not allowed")
        }
        if let method = request.head.header("Access-Control-Request-Method"), method != "POST" {
            return .error(.forbidden, code: "CORSMethodDenied", message: "method \(method) is not allowed; use POST")
        }
        return HTTPResponse(status: .noContent, headers: [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", "POST, OPTIONS"),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id"),
            ("Access-Control-Max-Age", String(cors.maxAge)),
        ])
    }

    // MARK: Auth

    struct Authenticated {
        let caller: Caller
        let claims: [String: String]
    }

    func authenticate(_ request: HTTPRequest, _ config: ServiceConfig, now: Double) -> Result<Authenticated, APIError> {
        func unauthorized(_ message: String, invalidToken: Bool) -> APIError {
            let challenge = invalidToken ? #"Bearer realm="presignd", error="invalid_token""# : #"Bearer realm="presignd""#
            return APIError(status: 401, code: "Unauthorized", message: message, headers: ["WWW-Authenticate": challenge])
        }
        guard let header = request.head.header("Authorization") else {
            return .failure(unauthorized("missing Authorization: Bearer credentials", invalidToken: false))
        }
        guard let token = BearerToken.token(in: header) else {
            return .failure(unauthorized("Authorization must be Bearer <api key or JWT>", invalidToken: false))
        }
        guard !token.isEmpty, token.utf8.count <= 8192 else {
            return .failure(unauthorized("empty or oversized bearer token", invalidToken: true))
        }
        if JWTAuth.looksLikeJWT(token) {
            let issuer = JWTAuth.unverifiedIssuer(token)
            var lastFailure = "no caller accepts tokens from this issuer"
            for caller in config.callers {
                guard case .jwt(let verifier) = caller.auth, verifier.issuer == issuer else { continue }
                switch verifier.verify(token, now: Date(timeIntervalSince1970: now)) {
                case .success(let claims): return .success(Authenticated(caller: caller, claims: claims))
                case .failure(let failure): lastFailure = failure.message
                }
            }
            return .failure(unauthorized("invalid token: \(lastFailure)", invalidToken: true))
        }
        let digest = APIKeyAuth.digest(token)
        var found: Caller?
        // Compare against every key so the time taken does not depend on which one matched.
        for caller in config.callers {
            if case .apiKey(let expected) = caller.auth, APIKeyAuth.constantTimeEquals(expected, digest), found == nil {
                found = caller
            }
        }
        guard let found else { return .failure(unauthorized("unknown API key", invalidToken: true)) }
        return .success(Authenticated(caller: found, claims: [:]))
    }

    // MARK: Presign

    func presign(_ request: HTTPRequest, _ snapshot: Snapshot) -> HTTPResponse {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let caller = try authenticate(request, snapshot.config, now: now).get()
            if let retry = rateLimited(caller, snapshot, request) {
                throw APIError(status: 429, code: "RateLimited", message: "caller '\(caller.caller.name)' is over its rate limit",
                               headers: ["Retry-After": String(retry)])
            }
            let parsed = try PresignRequest.parse(try Self.parseJSON(request).get())
            let checked = try CheckedRequest.check(parsed, path: "")
            let body = try sign(parsed, checked, path: "", caller: caller, snapshot: snapshot, request: request, now: now).get()
            return .json(.ok, body)
        } catch {
            return Self.response(error)
        }
    }

    func batch(_ request: HTTPRequest, _ snapshot: Snapshot) -> HTTPResponse {
        let now = clock.wallSeconds()
        let caller: Authenticated
        // An invalid item (wrong types, unknown fields, fields its operation does not take) fails the whole batch
        // with 400 naming it; a valid item that is refused (policy, unknown backend, rate limit) fails alone.
        var items: [(PresignRequest, CheckedRequest)] = []
        do throws(APIError) {
            caller = try authenticate(request, snapshot.config, now: now).get()
            let object = try Self.parseJSON(request).get()
            guard case .object(let members) = object, members.count == 1, case .array(let list)? = object["requests"] else {
                throw .invalid("requests", "the body must be {\"requests\": [...]}")
            }
            guard (1...100).contains(list.count) else {
                throw .invalid("requests", "must hold 1 to 100 requests (got \(list.count))")
            }
            items.reserveCapacity(list.count)
            for (index, item) in list.enumerated() {
                let parsed = try PresignRequest.parse(item, path: "requests[\(index)]")
                items.append((parsed, try CheckedRequest.check(parsed, path: "requests[\(index)]")))
            }
        } catch {
            return Self.response(error)
        }
        var body = Array(#"{"results":["#.utf8)
        body.reserveCapacity(items.count * 400)
        for (index, (parsed, checked)) in items.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            let result: Result<[UInt8], APIError>
            if let retry = rateLimited(caller, snapshot, request) {
                result = .failure(APIError(status: 429, code: "RateLimited", message: "caller '\(caller.caller.name)' is over its rate limit; retry after \(retry) s"))
            } else {
                result = sign(parsed, checked, path: "requests[\(index)]", caller: caller, snapshot: snapshot, request: request, now: now)
            }
            switch result {
            case .success(let bytes): body += bytes
            case .failure(let error): body += Self.errorObject(error, withStatus: true)
            }
        }
        body += "]}".utf8
        return .json(.ok, body)
    }

    /// Takes one token from the caller's bucket on this worker; the seconds until one is back when there is none.
    func rateLimited(_ caller: Authenticated, _ snapshot: Snapshot, _ request: HTTPRequest) -> Int? {
        guard case .limited(let retry) = snapshot.derived.take(caller: caller.caller.index, worker: request.worker, nowNanos: clock.monotonicNanos()) else {
            return nil
        }
        metrics.rateLimited(worker: request.worker)
        return retry
    }

    /// Checks, authorizes and signs one request; returns the success JSON object.
    func sign(
        _ parsed: PresignRequest, _ checked: CheckedRequest, path: String, caller: Authenticated, snapshot: Snapshot,
        request: HTTPRequest, now: Double
    ) -> Result<[UInt8], APIError> {
        let config = snapshot.config
        let backendName: String
        if let name = parsed.backend {
            guard config.backends[name] != nil else {
                return .failure(APIError(status: 404, code: "BackendNotFound", message: "no backend named '\(name)'",
                                         field: path.isEmpty ? "backend" : "\(path).backend"))
            }
            backendName = name
        } else {
            guard config.backends.count == 1, let only = config.backends.keys.first else {
                return .failure(.invalid(path.isEmpty ? "backend" : "\(path).backend", "is required when several backends are configured"))
            }
            backendName = only
        }
        let backend = config.backends[backendName]!
        let signature = backend.presigner.configuration.signature
        let policyRequest = PolicyRequest(
            operation: parsed.operation, backend: backendName, bucket: checked.bucket, key: checked.key,
            expiresIn: parsed.expiresIn ?? 0, signature: signature, contentType: parsed.contentType,
            contentLength: parsed.contentLength, contentTypePrefix: parsed.contentTypePrefix,
            contentLengthRange: checked.lengthRange, responseContentType: parsed.response?["content_type"])
        let rule: PolicyRule
        switch PolicyEngine.evaluate(policyRequest, caller: caller.caller, claims: caller.claims) {
        case .success(let r): rule = r
        case .failure(let denial):
            metrics.denied(worker: request.worker, reason: denial.reason)
            return .failure(APIError(status: 403, code: "PolicyDenied", message: denial.message))
        }
        let cap = signature == .v4 ? min(rule.maxExpiresIn, 604_800) : rule.maxExpiresIn
        let expiresIn = parsed.expiresIn ?? min(900, cap)
        let signingTime = SigningTime(epochSeconds: Int64(now))
        var out: [UInt8] = []
        out.reserveCapacity(512)
        let expiresAt: SigningTime
        do {
            if checked.isPost {
                var conditions: [PostPolicy.Condition] = []
                var fields: [(name: String, value: String)] = []
                let ruleMax = rule.maxContentLength
                if let range = checked.lengthRange {
                    conditions.append(.contentLengthRange(min: range.min, max: range.max))
                } else if let ruleMax {
                    conditions.append(.contentLengthRange(min: 0, max: ruleMax))
                }
                if let type = parsed.contentType {
                    fields.append(("Content-Type", type))
                } else if let prefix = parsed.contentTypePrefix {
                    conditions.append(.startsWith(field: "Content-Type", prefix: prefix))
                }
                let form = try backend.presigner.presignPost(
                    PostPolicy(bucket: checked.bucket!, key: checked.key!, expiry: .after(seconds: expiresIn), fields: fields, conditions: conditions),
                    now: signingTime)
                expiresAt = form.expires
                out += #"{"url":"#.utf8
                JSONText.appendString(form.url, to: &out)
                out += #","method":"POST","fields":{"#.utf8
                for (index, field) in form.fields.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    JSONText.appendString(field.name, to: &out)
                    out.append(UInt8(ascii: ":"))
                    JSONText.appendString(field.value, to: &out)
                }
                out += #"},"expires_at":"#.utf8
            } else {
                let signed = try backend.presigner.presign(
                    S3Presigner.Request(
                        operation: checked.operation!, bucket: checked.bucket ?? "", key: checked.key ?? "",
                        expiry: .after(seconds: expiresIn), headers: checked.headers, query: checked.query),
                    now: signingTime)
                expiresAt = signed.expires
                out += #"{"url":"#.utf8
                JSONText.appendString(signed.url, to: &out)
                out += #","method":"#.utf8
                JSONText.appendString(signed.method, to: &out)
                out += #","headers":{"#.utf8
                for (index, header) in signed.headers.enumerated() {
                    if index > 0 { out.append(UInt8(ascii: ",")) }
                    JSONText.appendString(header.name, to: &out)
                    out.append(UInt8(ascii: ":"))
                    JSONText.appendString(header.value, to: &out)
                }
                out += #"},"expires_at":"#.utf8
            }
        } catch {
            return .failure(APIError(status: 400, code: "InvalidRequest", message: error.message,
                                     field: Self.field(for: error, path: path)))
        }
        JSONText.appendString(expiresAt.iso8601, to: &out)
        out += #","signature_version":"#.utf8
        JSONText.appendString(Self.versionName(signature), to: &out)
        out += "}".utf8
        metrics.issued(worker: request.worker, operation: parsed.operation, backend: backendName)
        if config.auditLog {
            writeAudit(request: request, caller: caller.caller.name, operation: parsed.operation, backend: backendName,
                       bucket: checked.bucket, key: checked.key, expiresAt: expiresAt, now: now)
        }
        return .success(out)
    }

    static func versionName(_ version: SignatureVersion) -> String {
        switch version {
        case .v4: return "v4"
        case .v2: return "v2"
        case .s3fm: return "s3fm"
        }
    }

    static func field(for error: SigningError, path: String) -> String? {
        let name: String?
        switch error.code {
        case .invalidBucketName: name = "bucket"
        case .invalidKey: name = "key"
        case .invalidExpiry: name = "expires_in"
        default: name = nil
        }
        return name.map { path.isEmpty ? $0 : "\(path).\($0)" }
    }

    /// One JSON line per issued URL: never a secret, a signature or the URL itself.
    func writeAudit(
        request: HTTPRequest, caller: String, operation: String, backend: String, bucket: String?, key: String?,
        expiresAt: SigningTime, now: Double
    ) {
        var line = Array(#"{"audit":"presign","time":"#.utf8)
        JSONText.appendString(SigningTime(epochSeconds: Int64(now)).iso8601, to: &line)
        line += #","request_id":"#.utf8
        JSONText.appendString(request.requestId, to: &line)
        if let theirs = request.clientRequestId {
            // The client's own id, marked as theirs: it is whatever they chose to send.
            line += #","client_request_id":"#.utf8
            JSONText.appendString(theirs, to: &line)
        }
        line += #","caller":"#.utf8
        JSONText.appendString(caller, to: &line)
        line += #","operation":"#.utf8
        JSONText.appendString(operation, to: &line)
        line += #","backend":"#.utf8
        JSONText.appendString(backend, to: &line)
        line += #","bucket":"#.utf8
        if let bucket { JSONText.appendString(bucket, to: &line) } else { line += "null".utf8 }
        line += #","key":"#.utf8
        if let key { JSONText.appendString(key, to: &line) } else { line += "null".utf8 }
        line += #","expires_at":"#.utf8
        JSONText.appendString(expiresAt.iso8601, to: &line)
        line += #","client_ip":"#.utf8
        JSONText.appendString(request.clientAddress, to: &line)
        line += "}".utf8
        audit.info("\(String(decoding: line, as: UTF8.self))")
    }

    // MARK: JSON

    static func parseJSON(_ request: HTTPRequest) -> Result<JSONValue, APIError> {
        if let type = request.head.header("Content-Type"), !isJSONMediaType(type) {
            return .failure(APIError(status: 415, code: "UnsupportedMediaType", message: "Content-Type must be application/json"))
        }
        guard !request.body.isEmpty else { return .failure(.invalid("body", "a JSON object is required")) }
        do {
            return .success(try JSONValue.parse(request.body))
        } catch {
            return .failure(.invalid("body", "not valid JSON (\(error.message))"))
        }
    }

    /// `application/json`, any case, optionally with parameters (`; charset=utf-8`).
    static func isJSONMediaType(_ type: String) -> Bool {
        let expected = Array("application/json".utf8)
        var index = 0
        for byte in type.utf8 {
            if index < expected.count {
                let lower = byte >= 0x41 && byte <= 0x5A ? byte + 32 : byte
                guard lower == expected[index] else { return false }
                index += 1
            } else {
                return byte == UInt8(ascii: ";") || byte == UInt8(ascii: " ")
            }
        }
        return index == expected.count
    }

    static func errorObject(_ error: APIError, withStatus: Bool) -> [UInt8] {
        var out = Array(#"{"error":{"code":"#.utf8)
        JSONText.appendString(error.code, to: &out)
        out += #","message":"#.utf8
        JSONText.appendString(error.message, to: &out)
        if let field = error.field {
            out += #","field":"#.utf8
            JSONText.appendString(field, to: &out)
        }
        out += "}".utf8
        if withStatus { out += #","status":\#(error.status)"#.utf8 }
        out += "}".utf8
        return out
    }

    static func response(_ error: APIError) -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        for name in error.headers.keys.sorted() { headers.append((name, error.headers[name]!)) }
        return HTTPResponse(status: HTTPStatus(code: error.status), headers: headers, body: errorObject(error, withStatus: false))
    }

}
