import JSONKit

/// An error that knows its HTTP answer: the status, a stable code, a message, the request field at fault (for a
/// 400) and any headers the answer needs (`Retry-After`, `WWW-Authenticate`). The server's request errors, the
/// presign API's errors and the admin proxy's all answer through `HTTPResponse(error:)`, so every error body has
/// one shape: `{"error":{"code":…,"message":…[,"field":…]}}`.
public protocol HTTPResponseError: Error {
    var httpStatus: HTTPStatus { get }
    var code: String { get }
    var message: String { get }
    var field: String? { get }
    var responseHeaders: [(name: String, value: String)] { get }
}

extension HTTPResponseError {
    public var field: String? { nil }
    public var responseHeaders: [(name: String, value: String)] { [] }
}

extension HTTPResponse {
    /// The answer for `error`: its status, `Content-Type: application/json`, its headers, the error body.
    public init(error: some HTTPResponseError) {
        var writer = JSONWriter(capacity: 64 + error.message.utf8.count)
        writer.beginObject()
        writer.key("error")
        Self.writeError(into: &writer, code: error.code, message: error.message, field: error.field)
        writer.endObject()
        self.init(status: error.httpStatus, headers: [("Content-Type", "application/json")] + error.responseHeaders, body: writer.bytes)
    }
}

extension HTTPRequestError: HTTPResponseError {
    public var httpStatus: HTTPStatus { status }
}
