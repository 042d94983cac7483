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
    static let corrupt = LinkStoreError.unavailable("the store answered a malformed link record")

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

    // MARK: GET /l/{id}, HEAD /l/{id}

    func openLink(_ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        let settings: ServiceConfig.Links
        let store: any LinkStore
        do throws(APIError) { (settings, store) = try linkStore(snapshot) } catch { return Self.noStore(Self.response(error)) }
        // A malformed id is answered like an unknown one, without touching the store.
        guard let id = request.parameters["id"].flatMap({ LinkID($0) }) else { return Self.noStore(Self.response(Self.linkNotFound)) }
        if let refused = limitLinkClient(request, settings, snapshot) { return refused }
        // No use is spent on a redirect that could not be audited.
        do throws(APIError) { try requireAuditRoom(snapshot) } catch { return Self.noStore(Self.response(error)) }
        let head = request.head.method == .head
        let now = clock.wallSeconds()
        store.fetch(id.digest, worker: request.worker, loop: context.eventLoopIfAttached) { [self] fetched in
            let record: LinkRecord
            switch fetched {
            case .failure(let error): return context.respond(storeFailure(error, store, request))
            case .success(nil): return context.respond(Self.noStore(Self.response(Self.linkNotFound)))
            case .success(let found?) where !found.isWellFormed: return context.respond(storeFailure(Self.corrupt, store, request))
            case .success(let found?): record = found
            }
            if let refused = limitLink(id, settings, request, snapshot) { return context.respond(refused) }
            if let gone = record.gone(at: Int64(now)) { return context.respond(Self.goneResponse(gone)) }
            // The link obeys today's policy: its maker must still have a share_link rule for this object.
            guard let backend = linkBackend(record, snapshot, worker: request.worker) else {
                return context.respond(Self.noStore(Self.response(APIError(.linkNotAllowed, "this link is no longer allowed by policy"))))
            }
            if head {
                // HEAD shows where a GET would go without spending a use.
                return context.respond(redirect(record, backend: backend, settings: settings, id: id, use: nil, request: request, now: now))
            }
            store.use(id.digest, now: Int64(now), worker: request.worker, loop: context.eventLoopIfAttached) { [self] counted in
                switch counted {
                case .failure(let error): context.respond(storeFailure(error, store, request))
                case .success(.unknown): context.respond(Self.noStore(Self.response(Self.linkNotFound)))
                case .success(.gone(let gone)): context.respond(Self.goneResponse(gone))
                case .success(.used(let number)):
                    context.respond(redirect(record, backend: backend, settings: settings, id: id, use: number, request: request, now: now))
                }
            }
        }
        return nil
    }

    static func goneResponse(_ gone: LinkGone) -> HTTPResponse {
        let error: APIError
        switch gone {
        case .revoked: error = APIError(.linkRevoked, "this link was revoked")
        case .expired: error = APIError(.linkExpired, "this link has expired")
        case .usedUp: error = APIError(.linkUsedUp, "this link has been used as many times as it allows")
        }
        return noStore(response(error))
    }

    /// The backend a link signs with, when its maker still has a `share_link` rule for it under `config`.
    func linkBackend(_ record: LinkRecord, _ snapshot: Snapshot, worker: Int) -> ServiceConfig.Backend? {
        guard let rules = snapshot.derived.rulesByCaller[record.caller],
            let backend = snapshot.config.backends[record.backend]
        else { return nil }
        var intent = Intent(
            capability: .shareLink, backend: record.backend, bucket: record.bucket, key: record.key,
            lifetime: max(1, record.expiresAt - record.createdAt))
        intent.response = Intent.responseOverrides(record.response)
        let principal = Principal(name: record.caller, rules: rules, claims: record.claims)
        return allows(intent, principal, backend, worker: worker) ? backend : nil
    }

    /// 302 to a presigned GET (HEAD for a HEAD) that lives `url_ttl` seconds, never past the link itself.
    func redirect(
        _ record: LinkRecord, backend: ServiceConfig.Backend, settings: ServiceConfig.Links, id: LinkID, use: Int64?,
        request: HTTPRequest, now: Double
    ) -> HTTPResponse {
        let wanted = max(1, min(settings.urlTTL, record.expiresAt - Int64(now)))
        // The redirect's URL is clamped like any other (a rotating backend's set expires); no rule minimum applies.
        let signer: WindowedSigner<QuerySigner>
        let seconds: Int64
        do throws(APIError) {
            signer = try self.signer(.query, backend, worker: request.worker, now: now).get()
            seconds = try lifetime(wanted, window: signer.window, backend: backend, minExpiresIn: nil, worker: request.worker, now: now).get().seconds
        } catch {
            return Self.noStore(Self.response(error))
        }
        let query = Intent.responseOverrides(record.response).map { (name: $0.query, value: $0.value) }
        let signed: S3Presigner.PresignedURL
        do throws(SigningError) {
            signed = try signer.signer.sign(
                S3Presigner.Request(
                    operation: use == nil ? .head : .get, bucket: record.bucket, key: record.key,
                    expiry: .after(seconds: seconds), headers: [], query: query),
                now: SigningTime(epochSeconds: Int64(now)))
        } catch {
            // The record was checked when it was made; a store edited by hand could still hold a bad one.
            return Self.noStore(Self.response(APIError(.linkUnsignable, "this link cannot be signed: \(error.message)")))
        }
        guard writeLinkAudit(use == nil ? "link_head" : "link_use", request, id: id, record: record, now: now, use: use) else {
            return Self.noStore(Self.response(Self.auditUnavailable))
        }
        metrics.issued(worker: request.worker, operation: use == nil ? "share_link_head" : "share_link", backend: record.backend)
        return HTTPResponse(
            status: HTTPStatus(code: 302),
            headers: [("Location", signed.url), ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer")])
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
