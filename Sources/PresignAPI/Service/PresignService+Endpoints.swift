import HTTPServer
import PresignConfig

/// The presign API's rows of the endpoint table, and the wrappers every one of them gets (request metrics, CORS
/// answer headers). The OPTIONS rows are generated: one per path with a caller row, answering from that path's
/// methods (`preflight`).
extension PresignService {
    /// Every API endpoint, in matching order, wrapped. The server serves them on the public listener, and `respond`
    /// through its in-process client. Handlers are named unapplied (`PresignService.presign`) and applied to a weak
    /// `self` per request: the service owns its in-process router, so a handler that held `self` strongly would be
    /// a retain cycle, and a handler runs from a socket callback, so an unowned `self` would be an unchecked reference
    /// across that boundary. A request that finds the service gone gets 503.
    public func endpoints() -> [Endpoint] {
        let rows = [
            caller(.post, "/v1/presign", cost: 1, PresignService.presign),
            // A batch costs one unit per item: it takes them itself once it has read the items.
            caller(.post, "/v1/presign/batch", cost: 0, PresignService.batch),
            caller(.post, "/v1/uploads", cost: 1, PresignService.createUpload),
            caller(.post, "/v1/uploads/{upload}/parts", cost: 1, label: "/v1/uploads/parts", PresignService.signParts),
            caller(.get, "/v1/uploads/{upload}/parts", cost: 1, label: "/v1/uploads/parts", PresignService.listUploadParts),
            caller(.post, "/v1/uploads/{upload}/complete", cost: 1, label: "/v1/uploads/complete", PresignService.completeUpload),
            caller(.delete, "/v1/uploads/{upload}", cost: 1, label: "/v1/uploads", PresignService.abortUpload),
            caller(.post, "/v1/links", cost: 1, PresignService.createLink),
            caller(.get, "/v1/links/{id}", cost: 1, PresignService.linkInfo),
            caller(.delete, "/v1/links/{id}", cost: 1, PresignService.revokeLink),
            anonymous(.get, "/l/{id}", PresignService.openLink),
            anonymous(.get, "/metrics", PresignService.metricsPage),
            anonymous(.get, "/openapi.yaml", PresignService.openAPIPage),
        ]
        let wrappers = [metricsWrapper, corsWrapper]
        return rows.addingPreflight { methods in
            anonymousHandler { service in { request, _, snapshot in service.preflight(request, snapshot, methods: methods) } }
        }.map { $0.wrapped(wrappers) }
    }

    /// A row for authenticated callers: credentials are checked and `cost` units of the caller's rate limit taken (in
    /// process, or in Redis, answered later) before the handler runs with the caller.
    private func caller(
        _ method: HTTPMethod, _ path: PathPattern, cost: Int, label: String? = nil,
        _ handler: @escaping @Sendable (PresignService) -> (HTTPRequest, Authenticated, ResponseContext, Snapshot) -> HTTPResponse?
    ) -> Endpoint {
        Endpoint(method, path, access: .caller(cost: cost), metricLabel: label) { [weak self] request, context in
            guard let self else { return PresignService.gone }
            let snapshot = store.generation(worker: request.worker)
            admit(request, context, snapshot, cost: cost) { [self] caller in
                // A client that left while its credentials or rate limit were checked costs no more work.
                guard context.isOpen else { return context.respond(PresignService.clientGone) }
                if let now = handler(self)(request, caller, context, snapshot) { context.respond(now) }
            }
            return nil
        }
    }

    /// A row anyone may call.
    private func anonymous(
        _ method: HTTPMethod, _ path: PathPattern,
        _ handler: @escaping @Sendable (PresignService) -> (HTTPRequest, ResponseContext, Snapshot) -> HTTPResponse?
    ) -> Endpoint {
        Endpoint(method, path, access: .anonymous, handler: anonymousHandler(handler))
    }

    /// The handler of an anonymous row: this worker's configuration snapshot, looked up once per request.
    private func anonymousHandler(
        _ handler: @escaping @Sendable (PresignService) -> (HTTPRequest, ResponseContext, Snapshot) -> HTTPResponse?
    ) -> Endpoint.Handler {
        { [weak self] request, context in
            guard let self else { return PresignService.gone }
            return handler(self)(request, context, store.generation(worker: request.worker))
        }
    }

    /// Records every answer's status and duration under the row's metric label.
    var metricsWrapper: EndpointWrapper {
        EndpointWrapper { [metrics, clock] row, request, context in
            let start = clock.monotonicNanos()
            let label = row.metricLabel
            let worker = request.worker
            context.onAnswer { response in
                metrics.request(worker: worker, route: label, status: response.status.code, nanos: clock.monotonicNanos() &- start)
            }
            return nil
        }
    }

    /// Adds the CORS answer headers for an allowed `Origin` (an OPTIONS answer carries its own).
    var corsWrapper: EndpointWrapper {
        EndpointWrapper { [store] _, request, context in
            guard request.head.method != .options, let origin = request.head.header(.origin),
                let cors = store.generation(worker: request.worker).config.cors, cors.allows(origin)
            else { return nil }
            context.onAnswer { response in
                response.headers.append(("Access-Control-Allow-Origin", origin))
                response.headers.append(("Vary", "Origin"))
                response.headers.append(("Access-Control-Expose-Headers", "X-Request-Id, Retry-After, WWW-Authenticate"))
            }
            return nil
        }
    }

    func metricsPage(_ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        HTTPResponse(status: .ok, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.render())
    }

    func openAPIPage(_ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        HTTPResponse(status: .ok, headers: [("Content-Type", "application/yaml")], body: openAPI)
    }
}
