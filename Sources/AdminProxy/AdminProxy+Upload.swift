import HTTPServer

extension AdminProxy {
    /// Streams the request body to the backend as one PUT, with backpressure both ways (`UploadPump` decides,
    /// `UploadRelay` carries it out). 200 with `{"bucket":…,"key":…}` once the backend has stored it.
    func upload(_ call: AdminCall) {
        UploadRelay(context: call.context, bucket: call.bucket, key: call.key).start(
            on: call.connection, headers: Self.uploadHeaders(call.request.head), length: call.request.head.contentLength,
            now: call.now)
    }

    /// Request headers an upload passes on to the backend.
    static func uploadHeaders(_ head: HTTPRequestHead) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for name in ["Content-Type", "Content-MD5", "Cache-Control", "Content-Disposition", "Content-Encoding"] {
            if let value = head.header(name) { headers.append((name, value)) }
        }
        for (name, value) in head.headers where name.lowercased().hasPrefix("x-amz-meta-") { headers.append((name, value)) }
        return headers
    }
}
