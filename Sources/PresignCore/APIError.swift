/// An API error before it becomes a response: a code from a closed set (each code has one status), a message, the
/// request field at fault (for a 400) and the headers its answer needs (`Retry-After`, `WWW-Authenticate`). The
/// one exception to the closed set is an S3 refusal passed through with S3's own status and code (`upstream`).
public struct APIError: Error, Equatable, Sendable {
    public enum Code: String, CaseIterable, Sendable {
        case invalidRequest = "InvalidRequest"
        case unauthorized = "Unauthorized"
        case policyDenied = "PolicyDenied"
        case corsOriginDenied = "CORSOriginDenied"
        case corsMethodDenied = "CORSMethodDenied"
        case backendNotFound = "BackendNotFound"
        case linksDisabled = "LinksDisabled"
        case linkNotFound = "LinkNotFound"
        case uploadNotFound = "UploadNotFound"
        case partNotUploaded = "PartNotUploaded"
        case linkNotAllowed = "LinkNotAllowed"
        case linkRevoked = "LinkRevoked"
        case linkExpired = "LinkExpired"
        case linkUsedUp = "LinkUsedUp"
        case entityTooLarge = "EntityTooLarge"
        case unsupportedMediaType = "UnsupportedMediaType"
        case rateLimited = "RateLimited"
        case tooManyLinks = "TooManyLinks"
        case linkUnsignable = "LinkUnsignable"
        case uploadsDisabled = "UploadsDisabled"
        case badGateway = "BadGateway"
        case gatewayTimeout = "GatewayTimeout"
        case credentialsUnavailable = "CredentialsUnavailable"
        case auditUnavailable = "AuditUnavailable"
        case rateLimiterUnavailable = "RateLimiterUnavailable"
        case keysUnavailable = "KeysUnavailable"
        case linkStoreUnavailable = "LinkStoreUnavailable"
        case serviceStopped = "ServiceStopped"
        /// What a request whose client left is "answered" with: dropped by its context, never sent.
        case clientGone = "ClientGone"
        /// S3 refused a call made for the request; the answer carries S3's status and code (`APIError.upstream`).
        case backendRefused = "BackendRefused"

        public var status: Int {
            switch self {
            case .invalidRequest: 400
            case .unauthorized: 401
            case .policyDenied, .corsOriginDenied, .corsMethodDenied: 403
            case .backendNotFound, .linksDisabled, .linkNotFound, .uploadNotFound: 404
            case .partNotUploaded: 409
            case .linkNotAllowed, .linkRevoked, .linkExpired, .linkUsedUp: 410
            case .entityTooLarge: 413
            case .unsupportedMediaType: 415
            case .rateLimited, .tooManyLinks: 429
            case .linkUnsignable: 500
            case .uploadsDisabled: 501
            case .badGateway, .backendRefused: 502
            case .gatewayTimeout: 504
            case .credentialsUnavailable, .auditUnavailable, .rateLimiterUnavailable, .keysUnavailable,
                .linkStoreUnavailable, .serviceStopped, .clientGone:
                503
            }
        }
    }

    /// An S3 answer passed through: its status and code replace the code's own.
    public struct Upstream: Equatable, Sendable {
        public let status: Int
        public let code: String
    }

    public let code: Code
    public let message: String
    public let field: String?
    public var headers: [String: String]
    public let upstream: Upstream?

    public init(_ code: Code, _ message: String, field: String? = nil, headers: [String: String] = [:]) {
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
        upstream = nil
    }

    /// S3's refusal with S3's status and code; a status under 400 (an error inside a 200) answers 502.
    public static func upstream(status: Int, code: String, message: String) -> APIError {
        APIError(code: .backendRefused, message: message, upstream: Upstream(status: status < 400 ? 502 : status, code: code))
    }

    private init(code: Code, message: String, upstream: Upstream) {
        self.code = code
        self.message = message
        field = nil
        headers = [:]
        self.upstream = upstream
    }

    /// 400 `InvalidRequest` naming the field at fault: `"<field>: <message>"`.
    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.invalidRequest, "\(field): \(message)", field: field)
    }

    /// 403 `PolicyDenied` with the engine's reason.
    public static func denied(_ denial: PolicyEngine.Denial) -> APIError { APIError(.policyDenied, denial.message) }

    /// The status the answer has.
    public var status: Int { upstream?.status ?? code.status }
    /// The code the answer carries.
    public var codeName: String { upstream?.code ?? code.rawValue }
}
