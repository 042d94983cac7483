import HTTPServer
import S3Client

/// How backend results become HTTP answers: S3 errors, passed-through object headers, and the answers the proxy
/// gives on its own.
extension AdminProxy {
    /// S3 errors keep S3's status and code; an unreachable backend is 502, a timeout 504.
    static func errorResponse(_ error: S3Error) -> HTTPResponse {
        var body = Array(#"{"error":{"code":"#.utf8)
        let status: HTTPStatus
        switch error {
        case .s3(let code, let document):
            status = HTTPStatus(code: code)
            body += quoted(document.code) + Array(#","message":"#.utf8) + quoted(document.message)
            if let requestId = document.requestId { body += Array(#","s3_request_id":"#.utf8) + quoted(requestId) }
        case .transport(let failure):
            switch failure.kind {
            case .timeout:
                status = .gatewayTimeout
                body += quoted("GatewayTimeout") + Array(#","message":"#.utf8) + quoted("backend timed out: \(failure.message)")
            default:
                status = .badGateway
                body += quoted("BadGateway") + Array(#","message":"#.utf8) + quoted("backend unreachable: \(failure.message)")
            }
        case .badResponse(let message):
            status = .badGateway
            body += quoted("BadGateway") + Array(#","message":"#.utf8) + quoted("unreadable backend response: \(message)")
        case .invalid(let message):
            status = .badRequest
            body += quoted("InvalidRequest") + Array(#","message":"#.utf8) + quoted(message)
        }
        body += "}}".utf8
        return HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: body)
    }

    private static func quoted(_ text: String) -> [UInt8] { AdminJSON.quoted(text) }

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
