import HTTPServer
import S3Client
import S3Signing

extension AdminProxy {
    /// Streams an object to the client: the backend's head becomes a chunked response, and curl pauses while more
    /// than `highWater` bytes wait for the client, resuming once they drain below `lowWater`. A failure before the
    /// head is an error answer; after it, the client sees a cut chunked body.
    func download(_ call: AdminCall) {
        var headers: [(name: String, value: String)] = []
        if let range = call.request.head.header(.range) { headers.append(("Range", range)) }
        var paused = false
        var transfer: S3Transfer?
        let context = call.context
        transfer = call.connection.stream(
            .init(.get, bucket: call.bucket, key: call.key, headers: headers), now: call.now,
            onHead: { head in
                context.startStream(status: HTTPStatus(code: head.status),
                                    headers: Self.passThrough(head))
            },
            onBody: { bytes in
                guard context.isOpen else { return true }
                // Pausing hands the same bytes back later (curl keeps them), so decide before consuming.
                if context.queuedBytes > Self.highWater {
                    paused = true
                    return false
                }
                context.write(Array(bytes)) {
                    if paused && context.queuedBytes < Self.lowWater {
                        paused = false
                        transfer?.resume()
                    }
                }
                return true
            },
            completion: { result in
                transfer = nil
                switch result {
                case .success: context.finish()
                case .failure(let error):
                    if context.hasStarted { context.abort() } else { context.respond(Self.errorResponse(error)) }
                }
            })
        context.onConnectionLost = { transfer?.cancel() }
    }
}
