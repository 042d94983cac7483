import HTTPServer
import S3Client
import S3Signing

extension AdminProxy {
    /// Request headers an upload passes on to the backend.
    static func uploadHeaders(_ head: HTTPRequestHead) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for name in ["Content-Type", "Content-MD5", "Cache-Control", "Content-Disposition", "Content-Encoding"] {
            if let value = head.header(name) { headers.append((name, value)) }
        }
        for (name, value) in head.headers where name.lowercased().hasPrefix("x-amz-meta-") { headers.append((name, value)) }
        return headers
    }

    func upload(_ call: AdminCall) {
        let context = call.context
        let bucket = call.bucket
        let key = call.key
        var pending: [UInt8] = []
        var offset = 0
        var ended = false
        var waiting = false
        var clientPaused = false
        var transfer: S3Transfer?
        let upload = S3fmAuthConnection.Upload(length: call.request.head.contentLength) { buffer in
            let available = pending.count - offset
            if available == 0 {
                if ended { return 0 }
                waiting = true
                if clientPaused {
                    clientPaused = false
                    context.resumeBody()
                }
                return nil
            }
            let count = min(available, buffer.count)
            pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
            offset += count
            if offset == pending.count {
                pending.removeAll(keepingCapacity: true)
                offset = 0
            } else if offset >= 256 << 10 {
                // Drop what curl has taken, so the buffer holds only what is still to send.
                pending.removeSubrange(0..<offset)
                offset = 0
            }
            if clientPaused && pending.count - offset < Self.uploadHighWater / 4 {
                clientPaused = false
                context.resumeBody()
            }
            return count
        }
        context.onBodyChunk = { chunk in
            pending += chunk
            if pending.count - offset > Self.uploadHighWater && !clientPaused {
                clientPaused = true
                context.pauseBody()
            }
            if waiting {
                waiting = false
                transfer?.resume()
            }
        }
        context.onBodyEnd = {
            ended = true
            if waiting {
                waiting = false
                transfer?.resume()
            }
        }
        transfer = call.connection.stream(
            .init(.put, bucket: bucket, key: key, headers: Self.uploadHeaders(call.request.head)), upload: upload, now: call.now,
            onHead: { _ in }, onBody: { _ in true },
            completion: { result in
                transfer = nil
                switch result {
                case .success:
                    context.respond(.json(.ok, AdminJSON.stored(bucket: bucket, key: key)))
                case .failure(let error):
                    context.respond(Self.errorResponse(error))
                }
            })
        context.onConnectionLost = { transfer?.cancel() }
    }
}
