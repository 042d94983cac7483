import HTTPServer
import JSONKit
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing
import ShareLinks
import UVLoop

/// Share links: `POST /v1/links` makes one under a `share_link` rule; `GET /l/{id}` (no auth: the id is the
/// capability) counts a use and redirects to a fresh presigned GET; `GET`/`DELETE /v1/links/{id}` let the caller
/// (and JWT subject) that made it read or revoke it. Every handler may answer later: both stores do their I/O off the
/// loop (Redis on its socket, SQLite on its store thread) and answer on it; a refusal (a full store queue) comes at
/// once.
extension PresignService {
    static let linksDisabled = APIError(.linksDisabled, "share links are not configured on this server")
    /// The one answer for an id that is malformed, unknown, or someone else's: nothing tells these apart.
    static let linkNotFound = APIError(.linkNotFound, "no such link")
    /// A record no store of ours writes (`LinkRecord.isWellFormed`): the store's trouble, answered 503, never used.
    static let corrupt = LinkStoreError.malformedRecord

    /// Opens the configured link store once (creating the SQLite file and its schema), so `serve` and a reload
    /// fail loudly on a path that cannot work; nil when it is fine or links are off.
    public static func prepareLinkStore(_ config: ServiceConfig) -> String? {
        guard let links = config.links, let path = links.sqlitePath else { return nil }
        do throws(LinkStoreError) {
            try SQLiteLinkStore.prepare(.init(path: path, busyTimeoutMillis: links.busyTimeoutMillis))
            return nil
        } catch {
            return error.message
        }
    }

    /// The links settings and store in force, or the 404 that says links are off.
    func linkStore(_ snapshot: Snapshot) throws(APIError) -> (ServiceConfig.Links, any LinkStore) {
        guard let settings = snapshot.config.links, let store = snapshot.derived.links else { throw Self.linksDisabled }
        return (settings, store)
    }

    /// A store failure as the client sees it (503, retry in a second) and as the operator does (one log line per
    /// worker per second at most, so a broken disk cannot flood the log).
    func storeFailure(_ error: LinkStoreError, _ store: any LinkStore, _ request: HTTPRequest) -> HTTPResponse {
        logThrottled(.links, "share links (\(store.label)): \(error.message)", request)
        metrics.linkStoreError(worker: request.worker, busy: error == .busy)
        let message = error == .busy ? "the link store is busy; retry" : "the link store is unavailable; retry later"
        return Self.noStore(HTTPResponse(error: APIError(.linkStoreUnavailable, message, headers: ["Retry-After": "1"])))
    }

    /// What a throttled log line is about; each has its own once-a-second allowance.
    enum Trouble: Int, CaseIterable {
        case links, rateLimiter
    }

    /// Logs `message` as an error, at most once a second per worker and kind of trouble: a broken store or Redis
    /// must not flood the log at the request rate.
    func logThrottled(_ kind: Trouble, _ message: @autoclosure () -> String, _ request: HTTPRequest) {
        let now = clock.monotonicNanos()
        storeErrorLogged.withValue(request.worker) { last in
            if last[kind.rawValue] == 0 || now &- last[kind.rawValue] >= 1_000_000_000 {
                last[kind.rawValue] = now
                logger.error("\(message())", metadata: ["request_id": "\(request.requestId)"])
            }
        }
    }

    static func noStore(_ response: HTTPResponse) -> HTTPResponse {
        var response = response
        response.headers.append(("Cache-Control", "no-store"))
        return response
    }

    // MARK: POST /v1/links

    func createLink(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let (settings, store) = try linkStore(snapshot)
            let intent = try Intent.link(try Self.jsonBody(request).get())
            let (grant, _) = try decide(intent, caller, snapshot.config, worker: request.worker)
            try requireAuditRoom(snapshot)
            let id = newLinkID()
            let created = Int64(now)
            var response: [String: String] = [:]
            for override in grant.response { response[override.field] = override.value }
            let record = LinkRecord(
                digest: id.digest, caller: grant.caller, subject: grant.subject, claims: caller.claims,
                backend: grant.backend, bucket: grant.bucket!, key: grant.key!, response: response,
                createdAt: created, expiresAt: created + grant.lifetime, maxUses: grant.maxUses)
            store.create(record, maxLive: settings.maxLivePerCaller, worker: request.worker, loop: context.eventLoopIfAttached) { [self] result in
                switch result {
                case .failure(let error): context.respond(storeFailure(error, store, request))
                case .success(.tooMany): context.respond(Self.noStore(Self.response(Self.tooManyLinks(settings.maxLivePerCaller))))
                case .success(.created):
                    var out = JSONWriter(capacity: 256)
                    out.beginObject()
                    out.string("id", id.text)
                    out.string("url", settings.publicBaseURL + "/l/" + id.text)
                    out.string("expires_at", SigningTime(epochSeconds: record.expiresAt).iso8601)
                    out.key("max_uses")
                    if let max = record.maxUses { out.integer(max) } else { out.null() }
                    out.endObject()
                    guard writeLinkAudit("link_create", request, id: id, record: record, now: now) else {
                        return context.respond(Self.noStore(Self.response(Self.auditUnavailable)))
                    }
                    context.respond(Self.noStore(.json(.created, out.bytes)))
                }
            }
            return nil
        } catch {
            return Self.response(error)
        }
    }

    // MARK: GET /v1/links/{id}, DELETE /v1/links/{id}

    /// The caller's own link, or 404: links made by another caller or JWT subject do not exist for this one.
    func ownedLink(
        _ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot,
        then body: @escaping (LinkID, LinkRecord, any LinkStore) -> Void
    ) -> HTTPResponse? {
        do throws(APIError) {
            let (_, store) = try linkStore(snapshot)
            guard let id = request.parameters["id"].flatMap({ LinkID($0) }) else { throw Self.linkNotFound }
            store.fetch(id.digest, worker: request.worker, loop: context.eventLoopIfAttached) { [self] fetched in
                switch fetched {
                case .failure(let error): context.respond(storeFailure(error, store, request))
                case .success(let record?) where !record.isWellFormed: context.respond(storeFailure(Self.corrupt, store, request))
                case .success(let record?) where ASCII.same(record.caller, caller.caller.name) && ASCII.same(record.subject, caller.claims["sub"]):
                    body(id, record, store)
                case .success: context.respond(Self.noStore(Self.response(Self.linkNotFound)))
                }
            }
            return nil
        } catch {
            return Self.noStore(Self.response(error))
        }
    }

    func linkInfo(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        let now = Int64(clock.wallSeconds())
        return ownedLink(request, caller, context, snapshot) { id, record, _ in
            var out = JSONWriter(capacity: 384)
            out.beginObject()
            out.string("id", id.text)
            out.string("backend", record.backend)
            out.string("bucket", record.bucket)
            out.string("key", record.key)
            out.string("created_at", SigningTime(epochSeconds: record.createdAt).iso8601)
            out.string("expires_at", SigningTime(epochSeconds: record.expiresAt).iso8601)
            out.key("max_uses")
            if let max = record.maxUses { out.integer(max) } else { out.null() }
            out.integer("uses", record.uses)
            out.bool("revoked", record.revoked)
            out.string("state", record.gone(at: now)?.rawValue ?? "active")
            out.endObject()
            context.respond(Self.noStore(.json(.ok, out.bytes)))
        }
    }

    func revokeLink(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        let now = clock.wallSeconds()
        return ownedLink(request, caller, context, snapshot) { [self] id, record, store in
            store.revoke(id.digest, worker: request.worker, loop: context.eventLoopIfAttached) { [self] result in
                switch result {
                case .failure(let error): context.respond(storeFailure(error, store, request))
                case .success(false): context.respond(Self.noStore(Self.response(Self.linkNotFound)))
                case .success(true):
                    writeLinkAudit("link_revoke", request, id: id, record: record, now: now, grants: false)
                    context.respond(HTTPResponse(status: .noContent, headers: [("Cache-Control", "no-store")]))
                }
            }
        }
    }
}
