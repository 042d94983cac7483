import JSONKit

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
