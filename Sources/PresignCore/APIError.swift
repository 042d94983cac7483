/// An API error before it becomes a response, for the presign API and the admin proxy alike: a code from a closed
/// set (each code has one status), a message, the request field at fault (for a 400) and the headers its answer
/// needs (`Retry-After`, `WWW-Authenticate`). The one exception to the closed set is an S3 refusal passed through
/// with S3's own status and code (`upstream`). `Code` lists exactly the codes presignd itself puts on the wire
/// (openapi.yaml's `x-error-codes`, held equal by a test).
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
            case .badGateway: 502
            case .gatewayTimeout: 504
            case .credentialsUnavailable, .auditUnavailable, .rateLimiterUnavailable, .keysUnavailable,
                .linkStoreUnavailable, .serviceStopped:
                503
            }
        }
    }

    /// An S3 refusal passed through: S3's status and code (an open set: whatever the backend says), and its
    /// request id when the answer names it (`s3_request_id`).
    public struct Upstream: Equatable, Sendable {
        public let status: Int
        public let code: String
        public let requestId: String?
    }

    /// Whose code the answer carries.
    public enum Kind: Equatable, Sendable {
        case code(Code)
        case upstream(Upstream)
    }

    public let kind: Kind
    public let message: String
    public let field: String?
    public var headers: [String: String]

    public init(_ code: Code, _ message: String, field: String? = nil, headers: [String: String] = [:]) {
        kind = .code(code)
        self.message = message
        self.field = field
        self.headers = headers
    }

    /// S3's refusal with S3's status and code, as given (the presign API answers one inside a 200 as 502; the admin
    /// proxy passes every status through).
    public static func upstream(status: Int, code: String, message: String, requestId: String? = nil) -> APIError {
        APIError(upstream: Upstream(status: status, code: code, requestId: requestId), message: message)
    }

    private init(upstream: Upstream, message: String) {
        kind = .upstream(upstream)
        self.message = message
        field = nil
        headers = [:]
    }

    /// presignd's code; nil for an S3 refusal passed through.
    public var code: Code? {
        guard case .code(let code) = kind else { return nil }
        return code
    }

    /// 400 `InvalidRequest` naming the field at fault: `"<field>: <message>"`.
    public static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(.invalidRequest, "\(field): \(message)", field: field)
    }

    /// 503 `CredentialsUnavailable` for a rotating backend whose set cannot sign now (the presign API and the admin
    /// proxy): retry after 5 s; why goes to the log, not to the caller.
    public static func credentialsUnavailable(backend: String) -> APIError {
        APIError(.credentialsUnavailable, "backend '\(backend)' has no usable credentials right now (they are being refreshed); retry later",
            headers: ["Retry-After": "5"])
    }

    /// 403 `PolicyDenied` with the engine's reason.
    public static func denied(_ denial: PolicyEngine.Denial) -> APIError { APIError(.policyDenied, denial.message) }

    /// The status the answer has.
    public var status: Int {
        switch kind {
        case .code(let code): code.status
        case .upstream(let upstream): upstream.status
        }
    }

    /// The code the answer carries.
    public var codeName: String {
        switch kind {
        case .code(let code): code.rawValue
        case .upstream(let upstream): upstream.code
        }
    }

    /// Members the error object carries after `code`, `message` and `field`: S3's request id for a refusal that named it.
    public var details: [(name: String, value: String)] {
        guard case .upstream(let upstream) = kind, let requestId = upstream.requestId else { return [] }
        return [("s3_request_id", requestId)]
    }
}
