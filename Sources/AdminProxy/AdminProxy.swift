import Foundation
import HTTPServer
import Logging
import PresignAPI
import S3Client
import S3Signing

/// The admin path: REST over the seed's operations, proxied to a backend through `S3fmAuthConnection` on the
/// worker's own loop. Object bodies stream both ways with backpressure; lists and locations become JSON.
/// Every call needs `Authorization: Bearer <token>` (SHA-256 digests in the config, compared in constant time)
/// and is audit-logged.
public final class AdminProxy: Sendable {
    let service: PresignService
    let audit: Logger
    /// Bytes queued for the client above which the download pauses curl, and below which it resumes.
    static let highWater = 1 << 20
    static let lowWater = 256 << 10
    /// Upload bytes buffered from the client before its socket stops being read.
    static let uploadHighWater = 1 << 20
    /// The largest ACL document a streamed object route collects before sending it.
    static let maxDocumentBytes = 1 << 20

    public init(service: PresignService, audit: Logger) {
        self.service = service
        self.audit = audit
    }

    /// One connection per backend per loop, dropped when the loop's worker shuts down (a connection holds the
    /// loop's curl client, which must not outlive it).
    final class Connections {
        var byBackend: [String: (identity: BackendIdentity, connection: S3fmAuthConnection)] = [:]
    }

    /// What a connection was made from; a reloaded config with other values gets a new connection.
    struct BackendIdentity: Equatable {
        let endpoint: S3Endpoint
        let credentials: Credentials
        let region: String
        let signature: SignatureVersion
        let addressing: Addressing
        let timeouts: [Double]

        init(_ backend: ServiceConfig.Backend) {
            let c = backend.presigner.configuration
            endpoint = c.endpoint
            credentials = c.credentials
            region = c.region
            signature = c.signature
            addressing = c.addressing
            timeouts = [backend.connectTimeout, backend.requestTimeout, backend.lowSpeedTimeout]
        }
    }

    private let connections = LoopLocal<Connections>()

    func connection(_ backend: ServiceConfig.Backend, on loop: EventLoop) -> S3fmAuthConnection {
        let set = connections.get(loop) {
            let made = Connections()
            loop.onShutdown { [weak made] in made?.byBackend.removeAll() }
            return made
        }
        let key = BackendIdentity(backend)
        if let existing = set.byBackend[backend.name], existing.identity == key, existing.connection.isUsable {
            return existing.connection
        }
        let made = S3fmAuthConnection(
            presigner: backend.presigner,
            timeouts: .init(connect: backend.connectTimeout, total: backend.requestTimeout, lowSpeed: backend.lowSpeedTimeout),
            on: loop)
        set.byBackend[backend.name] = (key, made)
        return made
    }

    public func install(into router: inout Router) {
        router.add("GET", "/admin/v1/buckets") { [self] in handle($0, $1, .listBuckets) }
        router.add("PUT", "/admin/v1/buckets/{bucket}") { [self] in handle($0, $1, .createBucket) }
        router.add("DELETE", "/admin/v1/buckets/{bucket}") { [self] in handle($0, $1, .deleteBucket) }
        router.add("GET", "/admin/v1/buckets/{bucket}/objects") { [self] in handle($0, $1, .listObjects) }
        router.add("GET", "/admin/v1/buckets/{bucket}/location") { [self] in handle($0, $1, .location) }
        router.add("GET", "/admin/v1/buckets/{bucket}/acl") { [self] in handle($0, $1, .getBucketACL) }
        router.add("PUT", "/admin/v1/buckets/{bucket}/acl") { [self] in handle($0, $1, .putBucketACL) }
        router.add("GET", "/admin/v1/buckets/{bucket}/logging") { [self] in handle($0, $1, .getLogging) }
        router.add("PUT", "/admin/v1/buckets/{bucket}/logging") { [self] in handle($0, $1, .putLogging) }
        router.add("GET", "/admin/v1/buckets/{bucket}/objects/{key...}") { [self] in handle($0, $1, .getObject) }
        router.add("HEAD", "/admin/v1/buckets/{bucket}/objects/{key...}") { [self] in handle($0, $1, .headObject) }
        router.add("PUT", "/admin/v1/buckets/{bucket}/objects/{key...}", streamsBody: true) { [self] in handle($0, $1, .putObject) }
        router.add("DELETE", "/admin/v1/buckets/{bucket}/objects/{key...}") { [self] in handle($0, $1, .deleteObject) }
    }

    enum Route: String {
        case listBuckets = "list_all_my_buckets"
        case createBucket = "create_bucket"
        case deleteBucket = "delete_bucket"
        case listObjects = "list_bucket"
        case location = "get_bucket_location"
        case getBucketACL = "get_bucket_acl"
        case putBucketACL = "put_bucket_acl"
        case getLogging = "get_bucket_logging"
        case putLogging = "put_bucket_logging"
        case getObject = "get"
        case headObject = "head"
        case putObject = "put"
        case deleteObject = "delete"
    }

    static func queryItems(_ query: Substring) -> [(name: String, value: String?)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            if let equals = item.firstIndex(of: "=") {
                return (Router.percentDecode(item[..<equals]) ?? "", Router.percentDecode(item[item.index(after: equals)...]))
            }
            return (Router.percentDecode(item) ?? "", nil)
        }
    }

    private func handle(_ request: HTTPRequest, _ context: ResponseContext, _ route: Route) -> HTTPResponse? {
        let config = service.config
        guard authorized(request, config) else {
            return HTTPResponse.error(.unauthorized, code: "Unauthorized", message: "admin calls need Authorization: Bearer <admin token>",
                                      headers: [("WWW-Authenticate", #"Bearer realm="presignd-admin""#)])
        }
        let query = Self.queryItems(request.head.query)
        func param(_ name: String) -> String? { query.first { $0.name == name }.flatMap { $0.value ?? "" } }
        let hasACL = query.contains { $0.name == "acl" }
        let backendName = param("backend")
        let backend: ServiceConfig.Backend
        if let backendName {
            guard let named = config.backends[backendName] else {
                return .error(.notFound, code: "BackendNotFound", message: "no backend named '\(backendName)'")
            }
            backend = named
        } else {
            guard config.backends.count == 1, let only = config.backends.values.first else {
                return .error(.badRequest, code: "InvalidRequest", message: "backend: give ?backend= (several are configured)")
            }
            backend = only
        }
        let connection = connection(backend, on: context.eventLoop)
        let now = SigningTime(epochSeconds: Int64(Date().timeIntervalSince1970))
        let bucket = request.parameters["bucket"] ?? ""
        let key = request.parameters["key"]
        var operation = route.rawValue
        if hasACL && route == .getObject { operation = "get_acl" }
        if hasACL && route == .putObject { operation = "put_acl" }
        if route == .createBucket && param("location") != nil { operation = "create_located_bucket" }
        if config.auditLog {
            writeAudit(request: request, operation: operation, backend: backend.name, bucket: route == .listBuckets ? nil : bucket, key: key, now: now)
        }
        let reply = Reply(context: context)

        switch route {
        case .listBuckets:
            connection.listAllMyBuckets(now: now) { result in
                reply.json(result.map { Self.bucketsJSON($0) })
            }
        case .createBucket:
            connection.createBucket(bucket, location: param("location"), now: now) { result in
                reply.json(result.map { _ in Self.object([("bucket", .string(bucket))]) })
            }
        case .deleteBucket:
            connection.deleteBucket(bucket, now: now) { result in reply.empty(result) }
        case .listObjects:
            var options = S3fmAuthConnection.ListOptions(prefix: param("prefix"), marker: param("marker"),
                                                         delimiter: param("delimiter"), v2: param("list_type") == "2",
                                                         startAfter: param("start_after"))
            if let maxKeys = param("max_keys") {
                guard let value = Int(maxKeys), (1...1000).contains(value) else {
                    return .error(.badRequest, code: "InvalidRequest", message: "max_keys: must be 1...1000")
                }
                options.maxKeys = value
            }
            connection.listBucket(bucket, options: options, now: now) { result in
                reply.json(result.map { Self.listJSON($0) })
            }
        case .location:
            connection.getBucketLocation(bucket, now: now) { result in
                reply.json(result.map { Self.object([("location", .string($0.location))]) })
            }
        case .getBucketACL:
            connection.getACL(bucket, now: now) { result in reply.xml(result.map(\.1)) }
        case .putBucketACL:
            connection.putACL(bucket, xml: request.body, now: now) { result in reply.empty(result, status: .ok) }
        case .getLogging:
            connection.getBucketLogging(bucket, now: now) { result in reply.xml(result.map(\.1)) }
        case .putLogging:
            connection.putBucketLogging(bucket, xml: request.body, now: now) { result in reply.empty(result, status: .ok) }
        case .deleteObject:
            connection.delete(bucket, key: key ?? "", now: now) { result in reply.empty(result) }
        case .headObject:
            connection.head(bucket, key: key ?? "", now: now) { result in
                switch result {
                case .success(let head):
                    var response = HTTPResponse(status: .ok, headers: Self.passThrough(head))
                    response.headContentLength = head.value("Content-Length").flatMap { Int64($0) }
                    reply.context.respond(response)
                case .failure(let error):
                    reply.context.respond(Self.errorResponse(error))
                }
            }
        case .getObject where hasACL:
            connection.getACL(bucket, key: key ?? "", now: now) { result in reply.xml(result.map(\.1)) }
        case .putObject where hasACL:
            // The ACL document is small: collect the streamed body, then send it.
            var body = SmallBody(limit: Self.maxDocumentBytes, declaredLength: request.head.contentLength)
            guard !body.isOverLimit else { return Self.documentTooLarge }
            context.onBodyChunk = { chunk in
                // Answering drops these handlers, so no later chunk is appended; the connection closes after.
                if !body.append(chunk) { context.respond(Self.documentTooLarge) }
            }
            context.onBodyEnd = {
                connection.putACL(bucket, key: key ?? "", xml: body.bytes, now: now) { result in reply.empty(result, status: .ok) }
            }
        case .getObject:
            download(connection, bucket: bucket, key: key ?? "", request: request, reply: reply, now: now)
        case .putObject:
            upload(connection, bucket: bucket, key: key ?? "", request: request, reply: reply, now: now)
        }
        return nil
    }

    /// 413 for an ACL document over `maxDocumentBytes`; the rest of the body is not read, so the connection closes.
    static let documentTooLarge = HTTPResponse.error(
        .payloadTooLarge, code: "EntityTooLarge", message: "an ACL document is at most \(maxDocumentBytes) bytes",
        headers: [("Connection", "close")])

    // MARK: Streaming

    private func download(_ connection: S3fmAuthConnection, bucket: String, key: String, request: HTTPRequest,
                          reply: Reply, now: SigningTime) {
        var headers: [(name: String, value: String)] = []
        if let range = request.head.header("Range") { headers.append(("Range", range)) }
        var paused = false
        var transfer: S3Transfer?
        let context = reply.context
        transfer = connection.stream(
            .init(.get, bucket: bucket, key: key, headers: headers), now: now,
            onHead: { head in
                context.startStream(status: HTTPStatus(code: head.status),
                                    headers: Self.passThrough(head))
            },
            onBody: { bytes in
                guard context.isOpen else { return true }
                // Pausing hands the same bytes back later (curl keeps them), so decide before consuming.
                if context.queuedBytes > Self.highWater {
                    paused = true
                    return false
                }
                context.write(Array(bytes)) {
                    if paused && context.queuedBytes < Self.lowWater {
                        paused = false
                        transfer?.resume()
                    }
                }
                return true
            },
            completion: { result in
                transfer = nil
                switch result {
                case .success: context.finish()
                case .failure(let error):
                    if context.hasStarted { context.abort() } else { context.respond(Self.errorResponse(error)) }
                }
            })
        context.onConnectionLost = { transfer?.cancel() }
    }

    private func upload(_ connection: S3fmAuthConnection, bucket: String, key: String, request: HTTPRequest,
                        reply: Reply, now: SigningTime) {
        let context = reply.context
        var pending: [UInt8] = []
        var offset = 0
        var ended = false
        var waiting = false
        var clientPaused = false
        var transfer: S3Transfer?
        var headers: [(name: String, value: String)] = []
        for name in ["Content-Type", "Content-MD5", "Cache-Control", "Content-Disposition", "Content-Encoding"] {
            if let value = request.head.header(name) { headers.append((name, value)) }
        }
        for (name, value) in request.head.headers where name.lowercased().hasPrefix("x-amz-meta-") { headers.append((name, value)) }
        let upload = S3fmAuthConnection.Upload(length: request.head.contentLength) { buffer in
            let available = pending.count - offset
            if available == 0 {
                if ended { return 0 }
                waiting = true
                if clientPaused {
                    clientPaused = false
                    context.resumeBody()
                }
                return nil
            }
            let count = min(available, buffer.count)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            if offset == pending.count {
                pending.removeAll(keepingCapacity: true)
                offset = 0
            } else if offset >= 256 << 10 {
                // Drop what curl has taken, so the buffer holds only what is still to send.
                pending.removeSubrange(0..<offset)
                offset = 0
            }
            if clientPaused && pending.count - offset < Self.uploadHighWater / 4 {
                clientPaused = false
                context.resumeBody()
            }
            return count
        }
        context.onBodyChunk = { chunk in
            pending += chunk
            if pending.count - offset > Self.uploadHighWater && !clientPaused {
                clientPaused = true
                context.pauseBody()
            }
            if waiting {
                waiting = false
                transfer?.resume()
            }
        }
        context.onBodyEnd = {
            ended = true
            if waiting {
                waiting = false
                transfer?.resume()
            }
        }
        transfer = connection.stream(
            .init(.put, bucket: bucket, key: key, headers: headers), upload: upload, now: now,
            onHead: { _ in }, onBody: { _ in true },
            completion: { result in
                transfer = nil
                switch result {
                case .success:
                    context.respond(.json(.ok, Array(#"{"bucket":"#.utf8) + Self.quoted(bucket) + Array(#","key":"#.utf8) + Self.quoted(key) + Array("}".utf8)))
                case .failure(let error):
                    context.respond(Self.errorResponse(error))
                }
            })
        context.onConnectionLost = { transfer?.cancel() }
    }

    // MARK: Answers

    /// Answers a request once, from a completion on the loop.
    final class Reply {
        let context: ResponseContext
        init(context: ResponseContext) { self.context = context }

        func json(_ result: Result<[UInt8], S3Error>) {
            switch result {
            case .success(let body): context.respond(.json(.ok, body))
            case .failure(let error): context.respond(AdminProxy.errorResponse(error))
            }
        }

        func xml(_ result: Result<[UInt8], S3Error>) {
            switch result {
            case .success(let body): context.respond(HTTPResponse(status: .ok, headers: [("Content-Type", "application/xml")], body: body))
            case .failure(let error): context.respond(AdminProxy.errorResponse(error))
            }
        }

        func empty(_ result: Result<S3ResponseHead, S3Error>, status: HTTPStatus = .noContent) {
            switch result {
            case .success: context.respond(HTTPResponse(status: status))
            case .failure(let error): context.respond(AdminProxy.errorResponse(error))
            }
        }
    }

    /// S3 errors keep S3's status and code; an unreachable backend is 502, a timeout 504.
    static func errorResponse(_ error: S3Error) -> HTTPResponse {
        var body = Array(#"{"error":{"code":"#.utf8)
        let status: HTTPStatus
        switch error {
        case .s3(let code, let document):
            status = HTTPStatus(code: code)
            body += quoted(document.code) + Array(#","message":"#.utf8) + quoted(document.message)
            if let requestId = document.requestId { body += Array(#","s3_request_id":"#.utf8) + quoted(requestId) }
        case .transport(let failure):
            switch failure.kind {
            case .timeout:
                status = .gatewayTimeout
                body += quoted("GatewayTimeout") + Array(#","message":"#.utf8) + quoted("backend timed out: \(failure.message)")
            default:
                status = .badGateway
                body += quoted("BadGateway") + Array(#","message":"#.utf8) + quoted("backend unreachable: \(failure.message)")
            }
        case .badResponse(let message):
            status = .badGateway
            body += quoted("BadGateway") + Array(#","message":"#.utf8) + quoted("unreadable backend response: \(message)")
        case .invalid(let message):
            status = .badRequest
            body += quoted("InvalidRequest") + Array(#","message":"#.utf8) + quoted(message)
        }
        body += "}}".utf8
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    /// Object headers worth passing to the client; repeated ones stay repeated.
    static func passThrough(_ head: S3ResponseHead) -> [(name: String, value: String)] {
        let keep: Set<String> = ["content-type", "etag", "last-modified", "cache-control", "content-disposition",
                                 "content-encoding", "content-language", "expires", "content-range", "accept-ranges"]
        return head.headers.filter { keep.contains($0.name.lowercased()) || $0.name.lowercased().hasPrefix("x-amz-meta-") }
    }

    static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONText.appendString(text, to: &out)
        return out
    }

    enum JSON {
        case string(String)
        case number(Int64)
        case bool(Bool)
        case null
        case raw([UInt8])
    }

    static func object(_ members: [(String, JSON)]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, (name, value)) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let text): JSONText.appendString(text, to: &out)
            case .number(let n): out += String(n).utf8
            case .bool(let b): out += (b ? "true" : "false").utf8
            case .null: out += "null".utf8
            case .raw(let bytes): out += bytes
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func optional(_ text: String?) -> JSON { text.map { .string($0) } ?? .null }

    static func bucketsJSON(_ result: ListAllMyBucketsResult) -> [UInt8] {
        var buckets: [UInt8] = [UInt8(ascii: "[")]
        for (index, bucket) in result.buckets.enumerated() {
            if index > 0 { buckets.append(UInt8(ascii: ",")) }
            buckets += object([("name", .string(bucket.name)), ("creation_date", optional(bucket.creationDate))])
        }
        buckets.append(UInt8(ascii: "]"))
        let owner: JSON = result.owner.map { .raw(object([("id", optional($0.id)), ("display_name", optional($0.displayName))])) } ?? .null
        return object([("owner", owner), ("buckets", .raw(buckets))])
    }

    static func listJSON(_ result: ListBucketResult) -> [UInt8] {
        var objects: [UInt8] = [UInt8(ascii: "[")]
        for (index, item) in result.objects.enumerated() {
            if index > 0 { objects.append(UInt8(ascii: ",")) }
            objects += object([
                ("key", .string(item.key)), ("last_modified", optional(item.lastModified)), ("etag", optional(item.etag)),
                ("size", .number(item.size)), ("storage_class", optional(item.storageClass)),
            ])
        }
        objects.append(UInt8(ascii: "]"))
        var prefixes: [UInt8] = [UInt8(ascii: "[")]
        for (index, prefix) in result.commonPrefixes.enumerated() {
            if index > 0 { prefixes.append(UInt8(ascii: ",")) }
            JSONText.appendString(prefix, to: &prefixes)
        }
        prefixes.append(UInt8(ascii: "]"))
        return object([
            ("name", .string(result.name)), ("prefix", .string(result.prefix)), ("marker", optional(result.marker)),
            ("next_marker", optional(result.nextMarker ?? result.nextContinuationToken)),
            ("max_keys", result.maxKeys.map { .number(Int64($0)) } ?? .null), ("delimiter", optional(result.delimiter)),
            ("is_truncated", .bool(result.isTruncated)), ("objects", .raw(objects)), ("common_prefixes", .raw(prefixes)),
        ])
    }

    // MARK: Auth and audit

    func authorized(_ request: HTTPRequest, _ config: ServiceConfig) -> Bool {
        guard let header = request.head.header("Authorization"), let token = BearerToken.token(in: header), !token.isEmpty
        else { return false }
        let digest = APIKeyAuth.digest(token)
        var ok = false
        for expected in config.adminTokenDigests where APIKeyAuth.constantTimeEquals(expected, digest) { ok = true }
        return ok
    }

    func writeAudit(request: HTTPRequest, operation: String, backend: String, bucket: String?, key: String?, now: SigningTime) {
        var fields: [(String, JSON)] = [
            ("audit", .string("admin")), ("time", .string(now.iso8601)), ("request_id", .string(request.requestId)),
        ]
        // The client's own id, marked as theirs, never in place of the server's.
        if let theirs = request.clientRequestId { fields.append(("client_request_id", .string(theirs))) }
        fields += [
            ("caller", .string("admin")), ("operation", .string(operation)), ("backend", .string(backend)),
            ("bucket", Self.optional(bucket)), ("key", Self.optional(key)), ("client_ip", .string(request.clientAddress)),
        ]
        let line = Self.object(fields)
        audit.info("\(String(decoding: line, as: UTF8.self))")
    }
}
