import JSONKit

/// Method plus path pattern matching (`PathPattern`). The server's router is a `RouteTable<Endpoint>` built from
/// the endpoint table; the matching is generic so that it can be tested against a plain scan.
public struct RouteTable<Handler: Sendable>: Sendable {

    public struct Route: Sendable {
        public let method: HTTPMethod
        public let path: PathPattern
        public let handler: Handler
        /// The request body is passed to the handler as it arrives (ResponseContext.onBodyChunk) instead of whole.
        public let streamsBody: Bool
        public var pattern: String { path.text }
        var segments: [PathPattern.Segment] { path.segments }
    }

    public private(set) var routes: [Route] = []
    /// Route indexes by their first segment when it is a literal, in the order added; routes whose first segment
    /// is a parameter (or that have none) are in `anyFirst`. A request is matched only against the routes its first
    /// path segment can reach, not against every route.
    /// Compared as bytes against the path's first segment: a handful of literals, where hashing a new String from the
    /// segment on every request cost more than comparing it to each.
    private var byFirst: [(first: String, routes: [Int])] = []
    private var anyFirst: [Int] = []

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ path: PathPattern, streamsBody: Bool = false, _ handler: Handler) {
        routes.append(Route(method: method, path: path, handler: handler, streamsBody: streamsBody))
        if let first = path.firstLiteral {
            if let slot = byFirst.firstIndex(where: { $0.first == first }) {
                byFirst[slot].routes.append(routes.count - 1)
            } else {
                byFirst.append((first, [routes.count - 1]))
            }
        } else {
            anyFirst.append(routes.count - 1)
        }
    }

    /// The routes that may match a path whose first segment is `first`, in the order they were added.
    private func candidates(first: Substring?) -> [Int] {
        let literal = first.flatMap { segment in byFirst.first { $0.first.utf8.elementsEqual(segment.utf8) }?.routes } ?? []
        if anyFirst.isEmpty { return literal }
        if literal.isEmpty { return anyFirst }
        return (literal + anyFirst).sorted()
    }

    /// Whether the route for this request streams its body (decided from the head, before the body is read).
    public func streamsBody(method: HTTPMethod, path: Substring) -> Bool {
        if case .found(let route, _) = match(method: method, path: path) { return route.streamsBody }
        return false
    }

    public enum Match {
        case found(Route, [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
        case badPath
    }

    /// The route for a method and path. A path that matches only other methods' routes is 405 with those methods
    /// in table order (a GET route answers HEAD too, listed after it).
    public func match(method: HTTPMethod, path: Substring) -> Match {
        // Segments are found by the byte '/', in place (`PathSegments`), not by Characters: grapheme breaking cost
        // about 400 instructions a character.
        var parts = PathSegments(path)
        var allowed: [HTTPMethod] = []
        let reachable = candidates(first: parts.next())
        for index in reachable {
            let route = routes[index]
            guard let params = route.path.bind(path: path) else { continue }
            if route.method == method || (method == .head && route.method == .get && !routes.contains {
                $0.method == .head && $0.segments == route.segments
            }) {
                guard let decoded = params else { return .badPath }
                return .found(route, decoded)
            }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            if route.method == .get && !allowed.contains(.head) { allowed.append(.head) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// Percent-decodes a path segment or query item; nil when the escapes or the UTF-8 are invalid.
    public static func percentDecode(_ text: Substring) -> String? { ASCII.percentDecode(text) }
}

/// A route's handler (the endpoint table's one handler type).
public typealias RouteHandler = Endpoint.Handler

/// A listener's router: the endpoint table's rows for that listener.
public typealias Router = RouteTable<Endpoint>

/// A request as handlers see it.
public struct HTTPRequest: Sendable {
    public let head: HTTPRequestHead
    public let body: [UInt8]
    public let requestId: String
    public var parameters: [String: String]
    /// The peer's IP address as text ("" when unknown).
    public var clientAddress: String
    /// Which worker loop serves it (for per-loop state such as rate-limit buckets).
    public var worker: Int
    /// The client's own `X-Request-Id`, when it sent a well-formed one. Logged beside `requestId`, never in its
    /// place: the server's id is the one a log line can be trusted to carry.
    public var clientRequestId: String?
    /// The pattern of the route that took it (`/l/{id}`), set when it is resolved; "-" before.
    public var route: String = "-"

    public init(
        head: HTTPRequestHead, body: [UInt8], requestId: String, parameters: [String: String] = [:],
        clientAddress: String = "", worker: Int = 0, clientRequestId: String? = nil
    ) {
        self.clientRequestId = clientRequestId
        self.head = head
        self.body = body
        self.requestId = requestId
        self.parameters = parameters
        self.clientAddress = clientAddress
        self.worker = worker
    }
}

extension RouteTable where Handler == Endpoint {
    /// A router over these rows, in order.
    public init(_ endpoints: [Endpoint]) {
        self.init()
        for endpoint in endpoints { add(endpoint) }
    }

    public mutating func add(_ endpoint: Endpoint) {
        add(endpoint.method, endpoint.path, streamsBody: endpoint.streamsBody, endpoint)
    }

    public enum Resolution {
        /// The route's handler, with the request's path parameters bound.
        case handler(RouteHandler, HTTPRequest)
        /// No route takes it: the server's own answer.
        case answer(HTTPResponse)
    }

    /// The one place a request meets the routes, for the server and the in-process client alike: its handler, or
    /// 404, 405 with `Allow` (GET routes answer HEAD too), or 400 for a path that is not valid percent-encoding.
    public func resolve(_ request: HTTPRequest) -> Resolution {
        switch match(method: request.head.method, path: request.head.path) {
        case .found(let route, let parameters):
            var bound = request
            bound.parameters = parameters
            bound.route = route.pattern
            return .handler(route.handler.handler, bound)
        case .methodNotAllowed(let allowed):
            return .answer(
                .error(.methodNotAllowed, code: "MethodNotAllowed", message: "\(request.head.method) is not allowed here",
                       headers: [("Allow", allowed.map(\.name).joined(separator: ", "))]))
        case .notFound:
            return .answer(.error(.notFound, code: "NotFound", message: "no route for \(request.head.path)"))
        case .badPath:
            return .answer(.error(.badRequest, code: "BadPath", message: "path is not valid percent-encoding"))
        }
    }
}
