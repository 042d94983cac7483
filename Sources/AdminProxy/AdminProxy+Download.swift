import HTTPServer
import S3Client
import S3Signing

extension AdminProxy {
    /// Streams an object to the client: the backend's head becomes a chunked response, its body goes out in large
    /// batched writes with backpressure (`DownloadPump` decides, `DownloadRelay` carries it out). A failure before
    /// the head is an error answer; after it, the client sees a cut chunked body.
    func download(_ call: AdminCall) {
        var headers: [(name: String, value: String)] = []
        if let range = call.request.head.header(.range) { headers.append(("Range", range)) }
        DownloadRelay(context: call.context).start(
            on: call.connection, .init(.get, bucket: call.bucket, key: call.key, headers: headers), now: call.now)
    }
}
