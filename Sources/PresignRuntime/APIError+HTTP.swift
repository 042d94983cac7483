import HTTPServer
import PresignCore

/// An `APIError` answers through the server's one error writer, `HTTPResponse(error:)`:
/// `{"error":{"code":…,"message":…[,"field":…][,"s3_request_id":…]}}`, its status, and its headers in name order
/// (so answers are byte-for-byte stable). Here, below both, so the presign API and the admin proxy answer alike.
extension APIError: HTTPResponseError {
    public var httpStatus: HTTPStatus { HTTPStatus(code: status) }
    public var responseHeaders: [(name: String, value: String)] { headers.keys.sorted().map { ($0, headers[$0]!) } }
}
