import JSONKit
/// A parsed request line and header block.
public struct HTTPRequestHead: Sendable {
    public var method: String
    /// The request target as sent (`/path?query`).
    public var target: String
    public var versionMajor: Int
    public var versionMinor: Int
    /// Headers in arrival order; repeated names stay separate.
    public var headers: [(name: String, value: String)]
    public var keepAlive: Bool
    public var expectsContinue: Bool
    public var contentLength: Int64?
    public var chunked: Bool

    public init(
        method: String, target: String, versionMajor: Int = 1, versionMinor: Int = 1,
        headers: [(name: String, value: String)] = [], keepAlive: Bool = true, expectsContinue: Bool = false,
        contentLength: Int64? = nil, chunked: Bool = false
    ) {
        self.method = method
        self.target = target
        self.versionMajor = versionMajor
        self.versionMinor = versionMinor
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.contentLength = contentLength
        self.chunked = chunked
    }

    /// The first value of a header, case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// The path part of the target, still percent-encoded.
    public var path: Substring { target.prefix { $0 != "?" } }

    /// The query part of the target, without `?`, still encoded.
    public var query: Substring {
        guard let mark = target.firstIndex(of: "?") else { return "" }
        return target[target.index(after: mark)...]
    }
}

/// Why a request was refused before it reached a handler. Each maps to one status.
public enum HTTPRequestError: Error, Sendable, Equatable {
    case headerTooLarge
    case bodyTooLarge
    case malformed(String)
    case smuggling(String)
    case headerTimeout
    case bodyTimeout
    /// Anything but HTTP/1.0 or HTTP/1.1.
    case versionNotSupported

    public var status: HTTPStatus {
        switch self {
        case .versionNotSupported: return .httpVersionNotSupported
        case .headerTooLarge: return .requestHeaderFieldsTooLarge
        case .bodyTooLarge: return .payloadTooLarge
        case .malformed, .smuggling: return .badRequest
        case .headerTimeout, .bodyTimeout: return .requestTimeout
        }
    }

    public var code: String {
        switch self {
        case .headerTooLarge: return "HeaderTooLarge"
        case .bodyTooLarge: return "BodyTooLarge"
        case .malformed: return "MalformedRequest"
        case .smuggling: return "AmbiguousRequest"
        case .headerTimeout, .bodyTimeout: return "RequestTimeout"
        case .versionNotSupported: return "HTTPVersionNotSupported"
        }
    }

    public var message: String {
        switch self {
        case .headerTooLarge: return "request header block is too large"
        case .bodyTooLarge: return "request body is too large"
        case .malformed(let why): return "malformed request: \(why)"
        case .smuggling(let why): return "ambiguous request rejected: \(why)"
        case .headerTimeout: return "request headers not received in time"
        case .bodyTimeout: return "request body stalled or too slow"
        case .versionNotSupported: return "only HTTP/1.0 and HTTP/1.1 are supported"
        }
    }
}

/// An HTTP status code with its reason phrase.
public struct HTTPStatus: Sendable, Hashable {
    public let code: Int
    public let reason: String

    public init(_ code: Int, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public static let ok = HTTPStatus(200, "OK")
    public static let created = HTTPStatus(201, "Created")
    public static let noContent = HTTPStatus(204, "No Content")
    public static let badRequest = HTTPStatus(400, "Bad Request")
    public static let unauthorized = HTTPStatus(401, "Unauthorized")
    public static let forbidden = HTTPStatus(403, "Forbidden")
    public static let notFound = HTTPStatus(404, "Not Found")
    public static let methodNotAllowed = HTTPStatus(405, "Method Not Allowed")
    public static let requestTimeout = HTTPStatus(408, "Request Timeout")
    public static let payloadTooLarge = HTTPStatus(413, "Content Too Large")
    public static let unsupportedMediaType = HTTPStatus(415, "Unsupported Media Type")
    public static let tooManyRequests = HTTPStatus(429, "Too Many Requests")
    public static let requestHeaderFieldsTooLarge = HTTPStatus(431, "Request Header Fields Too Large")
    public static let internalServerError = HTTPStatus(500, "Internal Server Error")
    public static let badGateway = HTTPStatus(502, "Bad Gateway")
    public static let serviceUnavailable = HTTPStatus(503, "Service Unavailable")
    public static let gatewayTimeout = HTTPStatus(504, "Gateway Timeout")
    public static let httpVersionNotSupported = HTTPStatus(505, "HTTP Version Not Supported")

    static let reasons: [Int: String] = [
        200: "OK", 201: "Created", 204: "No Content", 206: "Partial Content", 301: "Moved Permanently",
        304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
        405: "Method Not Allowed", 408: "Request Timeout", 409: "Conflict", 412: "Precondition Failed",
        413: "Content Too Large", 415: "Unsupported Media Type", 416: "Range Not Satisfiable", 429: "Too Many Requests",
        431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
        502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    ]

    /// A status by number, with its standard reason phrase (statuses passed through from a backend, say).
    public init(code: Int) {
        self.init(code, Self.reasons[code] ?? "Status \(code)")
    }
}
