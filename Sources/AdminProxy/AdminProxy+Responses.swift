import HTTPServer
import JSONKit
import S3Client

/// How backend results become HTTP answers: S3 errors, passed-through object headers, and the answers the proxy
/// gives on its own.
extension AdminProxy {
    /// S3 errors keep S3's status and code (and its request id as `s3_request_id`); an unreachable backend is 502,
    /// a timeout 504.
    static func errorResponse(_ error: S3Error) -> HTTPResponse {
        let status: HTTPStatus
        let code: String
        let message: String
        var extra: [(String, String)] = []
        switch error {
        case .s3(let statusCode, let document):
            (status, code, message) = (HTTPStatus(code: statusCode), document.code, document.message)
            if let requestId = document.requestId { extra.append(("s3_request_id", requestId)) }
        case .transport(let failure) where failure.kind == .timeout:
            (status, code, message) = (.gatewayTimeout, "GatewayTimeout", "backend timed out: \(failure.message)")
        case .transport(let failure):
            (status, code, message) = (.badGateway, "BadGateway", "backend unreachable: \(failure.message)")
        case .badResponse(let reason):
            (status, code, message) = (.badGateway, "BadGateway", "unreadable backend response: \(reason)")
        case .invalid(let reason):
            (status, code, message) = (.badRequest, "InvalidRequest", reason)
        }
        var writer = JSONWriter(capacity: 96 + message.utf8.count)
        writer.beginObject()
        writer.key("error")
        HTTPResponse.writeError(into: &writer, code: code, message: message, extra: extra)
        writer.endObject()
        return .json(status, writer.bytes)
    }

    /// Object headers worth passing to the client; repeated ones stay repeated.
    static func passThrough(_ head: S3ResponseHead) -> [(name: String, value: String)] {
        let keep: Set<String> = ["content-type", "etag", "last-modified", "cache-control", "content-disposition",
                                 "content-encoding", "content-language", "expires", "content-range", "accept-ranges"]
        return head.headers.filter { keep.contains($0.name.lowercased()) || $0.name.lowercased().hasPrefix("x-amz-meta-") }
    }

    /// 413 for an ACL document over `maxDocumentBytes`; the rest of the body is not read, so the connection closes.
    static let documentTooLarge = HTTPResponse.error(
        .payloadTooLarge, code: "EntityTooLarge", message: "an ACL document is at most \(maxDocumentBytes) bytes",
        headers: [("Connection", "close")])
}
