import UVLoop

/// Answers requests through a router exactly as the server would, without sockets: the same route resolution
/// (404, 405 with `Allow`, 400 for bad percent-encoding), the same handlers and the same `ResponseContext`, whose
/// one late-answer mechanism (`respond`, or a stream) serves sockets and this client alike. A handler that answers
/// later (after S3, Redis, a thread-pool job) does so on `loop`, a real libuv loop that `respond` runs on the
/// calling thread until the answer is complete; a streamed answer is collected whole. Without a loop, only
/// handlers that answer before returning can be served. Used by tests, benchmarks and the fuzz harness.
public struct InProcessClient {
    public let router: Router
    public let loop: DrivenLoop?
    /// Counts an answer that found its client gone (`InProcessExchange.leave`), by route: the server's
    /// `lateAnswerDropped` for this client.
    public var lateAnswerDropped: ((_ route: String) -> Void)?

    public init(router: Router, loop: DrivenLoop? = nil) {
        self.router = router
        self.loop = loop
    }

    /// What the client got: the response (a streamed one collected whole) and whether its stream was cut (`abort`:
    /// a socket's client sees a truncated chunked body).
    public struct Answer {
        public var response: HTTPResponse
        public var aborted: Bool
    }

    /// Serves `request` and returns its answer, running the loop until a later answer comes.
    public func respond(_ request: HTTPRequest) -> HTTPResponse {
        let exchange = start(request)
        if let answer = exchange.answer { return answer.response }
        guard let loop else {
            preconditionFailure("\(request.head.method) \(request.head.path) answers later: serve it through an InProcessClient with a DrivenLoop")
        }
        guard loop.run(until: { exchange.isAnswered }), let answer = exchange.answer else {
            preconditionFailure("\(request.head.method) \(request.head.path) did not answer, and nothing is pending on its loop")
        }
        return answer.response
    }

    /// Starts serving `request` and returns its exchange at once; `answered` runs once, when the answer is complete
    /// (before `start` returns when the handler answers at once). Call on the loop's thread; the loop's owner runs it.
    @discardableResult
    public func start(_ request: HTTPRequest, answered: ((Answer) -> Void)? = nil) -> InProcessExchange {
        let exchange = InProcessExchange(loop: loop?.eventLoop, answered: answered)
        let context = ResponseContext(exchange: exchange, requestId: request.requestId, head: request.head, lateAnswerDropped: lateAnswerDropped)
        switch router.resolve(request) {
        case .answer(let response):
            context.respond(response)
        case .handler(let handler, let bound):
            context.route = bound.route
            guard router.streamsBody(method: bound.head.method, path: bound.head.path) else {
                if let response = handler(bound, context) { context.respond(response) }
                return exchange
            }
            // As from a socket: the handler sees the head, then the body arrives through the context.
            var head = HTTPRequest(
                head: bound.head, body: [], requestId: bound.requestId, parameters: bound.parameters,
                clientAddress: bound.clientAddress, worker: bound.worker, clientRequestId: bound.clientRequestId)
            head.route = bound.route
            if let response = handler(head, context) { context.respond(response) }
            if !bound.body.isEmpty { context.bodyChunk(bound.body) }
            context.bodyEnded()
        }
        return exchange
    }
}
