import JSONKit

/// Method plus path pattern routing. Patterns are `/literal/{param}/{rest...}`; a `{name...}` segment takes the
/// remainder of the path including slashes (object keys) and must come last. Parameters are percent-decoded.
public struct RouteTable<Handler: Sendable>: Sendable {

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case remainder(String)
    }

    public struct Route: Sendable {
        public let method: String
        public let pattern: String
        let segments: [Segment]
        public let handler: Handler
        /// The request body is passed to the handler as it arrives (ResponseContext.onBodyChunk) instead of whole.
        public let streamsBody: Bool
    }

    public private(set) var routes: [Route] = []
    /// Route indexes by their first segment when it is a literal, in the order added; routes whose first segment
    /// is a parameter (or that have none) are in `anyFirst`. A request is matched only against the routes its first
    /// path segment can reach, not against every route.
    private var byFirst: [String: [Int]] = [:]
    private var anyFirst: [Int] = []

    public init() {}

    public mutating func add(_ method: String, _ pattern: String, streamsBody: Bool = false, _ handler: Handler) {
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part.hasPrefix("{") && part.hasSuffix("...}") { return .remainder(String(part.dropFirst().dropLast(4))) }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        precondition(
            segments.dropLast().allSatisfy { if case .remainder = $0 { false } else { true } },
            "a {name...} segment must be last in \(pattern)")
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler, streamsBody: streamsBody))
        if case .literal(let first)? = segments.first {
            byFirst[first, default: []].append(routes.count - 1)
        } else {
            anyFirst.append(routes.count - 1)
        }
    }

    /// The routes that may match a path whose first segment is `first`, in the order they were added.
    private func candidates(first: Substring?) -> [Int] {
        let literal = first.flatMap { byFirst[String($0)] } ?? []
        if anyFirst.isEmpty { return literal }
        if literal.isEmpty { return anyFirst }
        return (literal + anyFirst).sorted()
    }

    /// Whether the route for this request streams its body (decided from the head, before the body is read).
    public func streamsBody(method: String, path: Substring) -> Bool {
        if case .found(let route, _) = match(method: method, path: path) { return route.streamsBody }
        return false
    }

    public enum Match {
        case found(Route, [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
        case badPath
    }

    public func match(method: String, path: Substring) -> Match {
        let parts = Array(path.split(separator: "/", omittingEmptySubsequences: false).dropFirst())
        var allowed: [String] = []
        let reachable = candidates(first: parts.first)
        for index in reachable {
            let route = routes[index]
            guard let params = Self.bind(route.segments, parts, path: path) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET" && !routes.contains {
                $0.method == "HEAD" && $0.segments == route.segments
            }) {
                guard let decoded = params else { return .badPath }
                return .found(route, decoded)
            }
            if !allowed.contains(route.method) { allowed.append(route.method) }
            if route.method == "GET" && !allowed.contains("HEAD") { allowed.append("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    /// nil: no match; .some(nil): matched but a parameter is not valid percent-encoding.
    static func bind(_ segments: [Segment], _ rawParts: [Substring], path: Substring) -> [String: String]?? {
        let parts = rawParts.count == 1 && rawParts[0].isEmpty ? [] : rawParts
        var params: [String: String] = [:]
        var index = 0
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard index < parts.count, parts[index] == text else { return nil }
                index += 1
            case .parameter(let name):
                guard index < parts.count, !parts[index].isEmpty else { return nil }
                guard let value = percentDecode(parts[index]) else { return .some(nil) }
                params[name] = value
                index += 1
            case .remainder(let name):
                let rest = parts[min(index, parts.count)...].joined(separator: "/")
                guard !rest.isEmpty else { return nil }
                guard let value = percentDecode(Substring(rest)) else { return .some(nil) }
                params[name] = value
                index = parts.count
            }
        }
        return index == parts.count ? .some(params) : nil
    }

    /// Percent-decodes a path segment or query item; nil when the escapes or the UTF-8 are invalid.
    public static func percentDecode(_ text: Substring) -> String? { ASCII.percentDecode(text) }
}

/// A server route's handler: return a response, or nil and answer later through the `ResponseContext`.
public typealias RouteHandler = @Sendable (HTTPRequest, ResponseContext) -> HTTPResponse?

/// The server's router.
public typealias Router = RouteTable<RouteHandler>

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

extension RouteTable where Handler == RouteHandler {
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
            return .handler(route.handler, bound)
        case .methodNotAllowed(let allowed):
            return .answer(
                .error(.methodNotAllowed, code: "MethodNotAllowed", message: "\(request.head.method) is not allowed here",
                       headers: [("Allow", allowed.joined(separator: ", "))]))
        case .notFound:
            return .answer(.error(.notFound, code: "NotFound", message: "no route for \(request.head.path)"))
        case .badPath:
            return .answer(.error(.badRequest, code: "BadPath", message: "path is not valid percent-encoding"))
        }
    }
}
