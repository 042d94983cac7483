/// One row of the endpoint table: everything presignd knows about an endpoint, in one value. The server routes by
/// it, OPTIONS answers and `Allow` headers are generated from it, metrics are labelled by it, `presignd routes`
/// prints it, and a test holds openapi.yaml to the public rows.
public struct Endpoint: Sendable {
    /// The one handler type. It answers now by returning a response, or later through the context
    /// (`ResponseContext.respond`, or a streamed answer), from a callback on the same loop; never both.
    public typealias Handler = @Sendable (HTTPRequest, ResponseContext) -> HTTPResponse?

    /// Which listener serves the row.
    public enum Listener: String, Sendable, Hashable {
        case `public`, admin
    }

    /// Who may call it. The server does not interpret this; the service a row belongs to admits its callers by it
    /// (the presign API: an API key or JWT, then `cost` units of the caller's rate limit; the admin proxy: the admin
    /// token, no rate limit). A row whose cost depends on its body (a batch's items) declares 0 and takes the units
    /// itself once it has read them.
    public enum Access: Sendable, Equatable {
        case anonymous
        case caller(cost: Int)
    }

    public let listener: Listener
    public let method: HTTPMethod
    public let path: PathPattern
    public let access: Access
    /// The `route` label of the request metrics (several rows may share one: `/v1/uploads/parts`).
    public let metricLabel: String
    /// The request body is passed to the handler as it arrives (`ResponseContext.onBodyChunk`) instead of whole.
    public let streamsBody: Bool
    public let handler: Handler

    public init(
        _ method: HTTPMethod, _ path: PathPattern, listener: Listener = .public, access: Access, metricLabel: String? = nil,
        streamsBody: Bool = false, handler: @escaping Handler
    ) {
        self.listener = listener
        self.method = method
        self.path = path
        self.access = access
        self.metricLabel = metricLabel ?? path.text
        self.streamsBody = streamsBody
        self.handler = handler
    }

    /// The same row with another handler (what a wrapper does).
    public func with(handler: @escaping Handler) -> Endpoint {
        Endpoint(method, path, listener: listener, access: access, metricLabel: metricLabel, streamsBody: streamsBody, handler: handler)
    }

    /// The row with `wrappers` around its handler, the first outermost. Each wrapper runs, in order, as a request
    /// reaches the endpoint; one that answers ends it there. Whatever the handler then answers, now or later, goes
    /// through the context, so the hooks the wrappers added (`ResponseContext.onAnswer`) see every answer.
    public func wrapped(_ wrappers: [EndpointWrapper]) -> Endpoint {
        guard !wrappers.isEmpty else { return self }
        let row = self
        let inner = handler
        return with { request, context in
            for wrapper in wrappers {
                if let answer = wrapper.enter(row, request, context) {
                    context.respond(answer)
                    return nil
                }
            }
            if let now = inner(request, context) { context.respond(now) }
            return nil
        }
    }
}

/// Middleware applied to endpoints (CORS answer headers, request metrics): `enter` runs when a request reaches the
/// row, before its handler. It may answer (the handler then does not run), and may add a hook that sees the answer
/// whenever it comes (`ResponseContext.onAnswer`).
public struct EndpointWrapper: Sendable {
    public let enter: @Sendable (Endpoint, HTTPRequest, ResponseContext) -> HTTPResponse?

    public init(enter: @escaping @Sendable (Endpoint, HTTPRequest, ResponseContext) -> HTTPResponse?) {
        self.enter = enter
    }
}
