import HTTPServer
import JSONKit
import S3Client

/// How backend results become HTTP answers: S3 errors, passed-through object headers, and the answers the proxy
/// gives on its own.
extension AdminProxy {
    /// S3 errors keep S3's status and code (and its request id as `s3_request_id`); an unreachable backend is 502,
    /// a timeout 504.
    static func errorResponse(_ error: S3Error) -> HTTPResponse {
        let (statusCode, code, message, requestId) = error.answer
        let status = HTTPStatus(code: statusCode)
        var extra: [(String, String)] = []
        if let requestId { extra.append(("s3_request_id", requestId)) }
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
