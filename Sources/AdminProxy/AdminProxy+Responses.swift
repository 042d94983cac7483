import HTTPServer
import PresignCore
import PresignRuntime
import S3Client

/// How backend results become HTTP answers: S3 errors, passed-through object headers, and the answers the proxy
/// gives on its own.
extension AdminProxy {
    /// S3 errors keep S3's status and code (and its request id as `s3_request_id`); an unreachable backend is 502,
    /// a timeout 504.
    static func errorResponse(_ error: S3Error) -> HTTPResponse {
        let answer = error.answer
        return HTTPResponse(error: APIError.upstream(status: answer.status, code: answer.code, message: answer.message, requestId: answer.s3RequestId))
    }

    /// A backend result as the client's answer: the JSON document, or the S3 error.
    static func json(_ result: Result<[UInt8], S3Error>) -> HTTPResponse {
        switch result {
        case .success(let body): .json(.ok, body)
        case .failure(let error): errorResponse(error)
        }
    }

    /// The backend's XML document (an ACL, a logging status) as it sent it, or the S3 error.
    static func xml(_ result: Result<[UInt8], S3Error>) -> HTTPResponse {
        switch result {
        case .success(let body): HTTPResponse(status: .ok, headers: [("Content-Type", "application/xml")], body: body)
        case .failure(let error): errorResponse(error)
        }
    }

    /// An empty answer with `status`, or the S3 error.
    static func empty(_ result: Result<S3ResponseHead, S3Error>, status: HTTPStatus = .noContent) -> HTTPResponse {
        switch result {
        case .success: HTTPResponse(status: status)
        case .failure(let error): errorResponse(error)
        }
    }

    /// Object headers worth passing to the client; repeated ones stay repeated.
    static func passThrough(_ head: S3ResponseHead) -> [(name: String, value: String)] {
        let keep: Set<String> = ["content-type", "etag", "last-modified", "cache-control", "content-disposition",
                                 "content-encoding", "content-language", "expires", "content-range", "accept-ranges"]
        return head.headers.filter { keep.contains($0.name.lowercased()) || $0.name.lowercased().hasPrefix("x-amz-meta-") }
    }

    /// 413 for an ACL document over `maxDocumentBytes`; the rest of the body is not read, so the connection closes.
    static let documentTooLarge = HTTPResponse(error: APIError(
        .entityTooLarge, "an ACL document is at most \(maxDocumentBytes) bytes", headers: ["Connection": "close"]))
}
