/// Answers requests through a router exactly as the server would, without sockets: the same route resolution
/// (404, 405 with `Allow`, 400 for bad percent-encoding) and the same handlers. For handlers that answer whole
/// responses (the presign API); streaming routes need a real connection. Used by tests and in-process callers.
public struct InProcessClient {
    public let router: Router

    public init(router: Router) { self.router = router }

    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        switch router.resolve(request) {
        case .answer(let response):
            return response
        case .handler(let handler, let bound):
            let context = ResponseContext(connection: nil, requestId: bound.requestId, head: bound.head)
            if let response = handler(bound, context) { return response }
            guard let response = context.detachedResponse else {
                preconditionFailure("handler for \(bound.head.method) \(bound.head.path) did not answer synchronously")
            }
            return response
        }
    }
}
