import JSONKit

/// An error that knows its HTTP answer: the status, a stable code (`codeName`: the name on the wire, so a type may
/// keep `code` for its own typed code, as `APIError` does), a message, the request field at fault (for a 400),
/// further members (`details`: the admin proxy's `s3_request_id`) and any headers the answer needs (`Retry-After`,
/// `WWW-Authenticate`). The server's request errors and `APIError` (the presign API's and the admin proxy's) all
/// answer through `HTTPResponse(error:)`, so every error body has one shape:
/// `{"error":{"code":…,"message":…[,"field":…][,details…]}}`.
public protocol HTTPResponseError: Error {
    var httpStatus: HTTPStatus { get }
    var codeName: String { get }
    var message: String { get }
    var field: String? { get }
    var details: [(name: String, value: String)] { get }
    var responseHeaders: [(name: String, value: String)] { get }
}

extension HTTPResponseError {
    public var field: String? { nil }
    public var details: [(name: String, value: String)] { [] }
    public var responseHeaders: [(name: String, value: String)] { [] }
}

extension HTTPResponse {
    /// The answer for `error`: its status, `Content-Type: application/json`, its headers, the error body.
    public init(error: some HTTPResponseError) {
        var writer = JSONWriter(capacity: 64 + error.message.utf8.count)
        writer.beginObject()
        writer.key("error")
        Self.writeError(into: &writer, code: error.codeName, message: error.message, field: error.field, extra: error.details)
        writer.endObject()
        self.init(status: error.httpStatus, headers: [("Content-Type", "application/json")] + error.responseHeaders, body: writer.bytes)
    }
}

extension HTTPRequestError: HTTPResponseError {
    public var httpStatus: HTTPStatus { status }
    public var codeName: String { code }
}
