import HTTPServer
import PresignCore

extension HTTPResponse {
    /// An `APIError`'s answer, through the server's one error writer:
    /// `{"error":{"code":…,"message":…[,"field":…]}}`, its status, and its headers in name order (so answers are
    /// byte-for-byte stable).
    init(error: APIError) { self.init(error: APIErrorAnswer(error: error)) }
}

private struct APIErrorAnswer: HTTPResponseError {
    let error: APIError
    var httpStatus: HTTPStatus { HTTPStatus(code: error.status) }
    var code: String { error.codeName }
    var message: String { error.message }
    var field: String? { error.field }
    var responseHeaders: [(name: String, value: String)] { error.headers.keys.sorted().map { ($0, error.headers[$0]!) } }
}
