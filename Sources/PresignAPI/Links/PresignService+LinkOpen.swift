import HTTPServer
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing
import ShareLinks

/// `GET /l/{id}` (no auth: the id is the capability) counts a use and redirects to a fresh presigned GET; `HEAD`
/// shows where a GET would go without spending a use.
///
/// The answers, in order: a malformed or unknown id 404, the client's address limit 429, no audit room 503, a
/// corrupt record or store trouble 503, the link's own limit 429, a link revoked, expired or used up 410, a link
/// its maker's rules no longer allow 410 (`LinkNotAllowed`), and otherwise 302. The link's own token is taken
/// before the store is asked and given back when there is no link, so that a redirect costs one store call
/// (`LinkStore.open`: SQLite reads, checks and counts in one job on its thread); only a link whose bucket is empty
/// is read first, since whether it exists decides between 404 and 429.
extension PresignService {
    func openLink(_ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        let settings: ServiceConfig.Links
        let store: any LinkStore
        do throws(APIError) { (settings, store) = try linkStore(snapshot) } catch { return Self.noStore(Self.response(error)) }
        // A malformed id is answered like an unknown one, without touching the store.
        guard let id = request.parameters["id"].flatMap({ LinkID($0) }) else { return Self.noStore(Self.response(Self.linkNotFound)) }
        if let refused = limitLinkClient(request, settings, snapshot) { return refused }
        // No use is spent on a redirect that could not be audited.
        do throws(APIError) { try requireAuditRoom(snapshot) } catch { return Self.noStore(Self.response(error)) }
        let opening = LinkOpeningRequest(request: request, context: context, snapshot: snapshot, settings: settings, store: store, id: id,
                                         now: clock.wallSeconds())
        guard let made = snapshot.derived.linkLimiter.reserve(
            Self.linkLimitKey(id), limit: settings.perLink, worker: request.worker, nowNanos: clock.monotonicNanos())
        else {
            openLimited(opening)
            return nil
        }
        open(opening, reserved: made)
        return nil
    }

    /// What one `/l/{id}` request carries from the route to the store's answer.
    struct LinkOpeningRequest {
        let request: HTTPRequest
        let context: ResponseContext
        let snapshot: Snapshot
        let settings: ServiceConfig.Links
        let store: any LinkStore
        let id: LinkID
        let now: Double
    }

    /// The link's bucket was empty (or new, in a full table): the link is read first, as then 404 and 429 depend
    /// on whether it exists, and opened only when its bucket has a token by then.
    private func openLimited(_ o: LinkOpeningRequest) {
        o.store.fetch(o.id.digest, worker: o.request.worker, loop: o.context.eventLoopIfAttached) { [self] fetched in
            switch fetched {
            case .failure(let error): return o.context.respond(storeFailure(error, o.store, o.request))
            case .success(nil): return o.context.respond(Self.noStore(Self.response(Self.linkNotFound)))
            case .success(let found?) where !found.isWellFormed: return o.context.respond(storeFailure(Self.corrupt, o.store, o.request))
            case .success: break
            }
            if let refused = limitLink(o.id, o.settings, o.request, o.snapshot) { return o.context.respond(refused) }
            open(o, reserved: nil)
        }
    }

    /// Opens the link with its token taken (`reserved`: whether that made its bucket; nil when it is not to be
    /// given back), in one store call.
    private func open(_ o: LinkOpeningRequest, reserved: Bool?) {
        let snapshot = o.snapshot
        let head = o.request.head.method == .head
        o.store.open(o.id.digest, now: Int64(o.now), counting: !head, worker: o.request.worker, loop: o.context.eventLoopIfAttached,
                     allow: { Self.linkCheck($0, snapshot).map { $0.denial == nil } ?? false }) { [self] opened in
            switch opened {
            case .failure(let error):
                giveBack(o, reserved)
                o.context.respond(storeFailure(error, o.store, o.request))
            case .success(.unknown):
                giveBack(o, reserved)
                o.context.respond(Self.noStore(Self.response(Self.linkNotFound)))
            case .success(.gone(let gone)): o.context.respond(Self.goneResponse(gone))
            case .success(.refused(let record)):
                if let denial = Self.linkCheck(record, snapshot)?.denial { metrics.denied(worker: o.request.worker, reason: denial.reason) }
                o.context.respond(Self.linkNotAllowed)
            case .success(.opened(let record, let use)):
                guard let backend = snapshot.config.backends[record.backend] else { return o.context.respond(Self.linkNotAllowed) }
                o.context.respond(redirect(record, backend: backend, settings: o.settings, id: o.id, use: use, request: o.request, now: o.now))
            }
        }
    }

    private func giveBack(_ o: LinkOpeningRequest, _ reserved: Bool?) {
        guard let made = reserved else { return }
        o.snapshot.derived.linkLimiter.giveBack(
            Self.linkLimitKey(o.id), made: made, limit: o.settings.perLink, worker: o.request.worker, nowNanos: clock.monotonicNanos())
    }

    static var linkNotAllowed: HTTPResponse {
        noStore(response(APIError(.linkNotAllowed, "this link is no longer allowed by policy")))
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

    /// Whether the link's maker still has a `share_link` rule for it under `snapshot`: nil when the maker or the
    /// backend is gone from the configuration, else the backend and the rules' denial (nil: allowed). Pure, as it
    /// runs on the SQLite store's thread; the denial is counted on the loop.
    static func linkCheck(_ record: LinkRecord, _ snapshot: Snapshot) -> (backend: ServiceConfig.Backend, denial: PolicyEngine.Denial?)? {
        guard let rules = snapshot.derived.rulesByCaller[record.caller],
            let backend = snapshot.config.backends[record.backend]
        else { return nil }
        var intent = Intent(
            capability: .shareLink, backend: record.backend, bucket: record.bucket, key: record.key,
            lifetime: max(1, record.expiresAt - record.createdAt))
        intent.response = Intent.responseOverrides(record.response)
        let principal = Principal(name: record.caller, rules: rules, claims: record.claims)
        return (backend, PolicyEngine.denial(intent, principal, backend: PolicyEngine.Backend(name: backend.name, signature: backend.signature)))
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
}
