import HTTPServer

/// An API error before it becomes a response: status, code, message and (for 400) the field at fault.
public struct APIError: HTTPResponseError, Equatable, Sendable {
    public let status: Int
    public let code: String
    public let message: String
    public let field: String?
    public var headers: [String: String] = [:]

    public init(status: Int, code: String, message: String, field: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = headers
    }

    static func invalid(_ field: String, _ message: String) -> APIError {
        APIError(status: 400, code: "InvalidRequest", message: "\(field): \(message)", field: field)
    }
}

extension APIError {
    public var httpStatus: HTTPStatus { HTTPStatus(code: status) }
    /// Extra headers in name order, so answers are byte-for-byte stable.
    public var responseHeaders: [(name: String, value: String)] { headers.keys.sorted().map { ($0, headers[$0]!) } }
}
