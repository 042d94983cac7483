/// The live transport: each request is one curl easy handle in this loop's multi.
extension CurlLoop: S3Transport {
    var isUsable: Bool { !closed }

    func send(_ request: S3WireRequest, _ handlers: S3WireHandlers) throws(S3Error) -> any S3WireControl {
        guard let transfer = CurlTransfer() else { throw .badResponse("curl_easy_init failed") }
        let timeouts = request.timeouts
        transfer.configure(
            method: request.method, url: request.url, headers: request.headers, uploadLength: request.uploadLength,
            timeouts: .init(connectMillis: Int(timeouts.connect * 1000), totalMillis: Int(timeouts.total * 1000),
                            lowSpeedSeconds: max(1, Int(timeouts.lowSpeed))),
            receiveBuffer: request.receiveBuffer)
        transfer.onHead = handlers.onHead
        let onData = handlers.onData
        transfer.onData = { bytes in
            switch onData(bytes) {
            case .accept: return .accept
            case .pause: return .pause
            case .abort: return .abort
            }
        }
        transfer.readBody = handlers.readBody
        let onFinish = handlers.onFinish
        transfer.onFinish = { outcome in
            switch outcome {
            case .completed: onFinish(.success(()))
            case .failed(let failure): onFinish(.failure(failure))
            }
        }
        start(transfer)
        return Control(transfer: transfer, loop: self)
    }

    /// A curl transfer in flight, and the loop it runs on.
    final class Control: S3WireControl {
        let transfer: CurlTransfer
        let loop: CurlLoop

        init(transfer: CurlTransfer, loop: CurlLoop) {
            self.transfer = transfer
            self.loop = loop
        }

        func cancel() { loop.cancel(transfer) }
        func resume() { loop.resume(transfer) }
        func resumeNextTurn() { loop.resumeNextTurn(transfer) }
    }
}
