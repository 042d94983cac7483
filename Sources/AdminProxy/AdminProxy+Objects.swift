import HTTPServer
import S3Client

/// Object operations that are not streams: HEAD, DELETE and the object ACL. Bodies stream in `+Download` and
/// `+Upload`.
extension AdminProxy {
    func headObject(_ call: AdminCall) {
        call.connection.head(call.bucket, key: call.key, now: call.now) { result in
            switch result {
            case .success(let head):
                var response = HTTPResponse(status: .ok, headers: Self.passThrough(head))
                response.headContentLength = head.value("Content-Length").flatMap { Int64($0) }
                call.context.respond(response)
            case .failure(let error):
                call.context.respond(Self.errorResponse(error))
            }
        }
    }

    func deleteObject(_ call: AdminCall) {
        call.connection.delete(call.bucket, key: call.key, now: call.now) { result in call.context.respond(Self.empty(result)) }
    }

    func getObjectACL(_ call: AdminCall) {
        call.connection.getACL(call.bucket, key: call.key, now: call.now) { result in call.context.respond(Self.xml(result.map(\.1))) }
    }

    /// The ACL document is small: collect the streamed body, then send it. 413 at once for a declared length over
    /// `maxDocumentBytes`.
    func putObjectACL(_ call: AdminCall) -> HTTPResponse? {
        var body = SmallBody(limit: Self.maxDocumentBytes, declaredLength: call.request.head.contentLength)
        guard !body.isOverLimit else { return Self.documentTooLarge }
        let context = call.context
        context.onBodyChunk = { chunk in
            // Answering drops these handlers, so no later chunk is appended; the connection closes after.
            if !body.append(chunk) { context.respond(Self.documentTooLarge) }
        }
        context.onBodyEnd = {
            call.connection.putACL(call.bucket, key: call.key, xml: body.bytes, now: call.now) { result in
                call.context.respond(Self.empty(result, status: .ok))
            }
        }
        return nil
    }
}
