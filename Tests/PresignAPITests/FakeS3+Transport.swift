import Foundation
import S3Client
import UVLoop

extension FakeS3 {
    /// One loop's transport to the fake: each request is read, served, and answered from a zero timer on the loop,
    /// so its answer comes on a later turn, as a real backend's does.
    final class Transport: S3Transport {
        let s3: FakeS3
        let loop: EventLoop
        /// The calls in flight: held here until they finish, whoever keeps their control.
        var calls: [ObjectIdentifier: Call] = [:]
        var activeCount: Int { calls.count }
        var isUsable: Bool { !loop.isDraining }

        init(s3: FakeS3, loop: EventLoop) {
            self.s3 = s3
            self.loop = loop
        }

        func send(_ request: S3WireRequest, _ handlers: S3WireHandlers) throws(S3Error) -> any S3WireControl {
            let call = Call(transport: self, request: request, handlers: handlers)
            calls[ObjectIdentifier(call)] = call
            call.schedule()
            return call
        }
    }

    /// One request: its body read, its answer delivered (paused and resumed as the connection asks), then finished.
    final class Call: S3WireControl {
        /// Strong both ways while the call runs (the transport lets go when it ends).
        let transport: Transport
        let request: S3WireRequest
        var handlers: S3WireHandlers?
        private var timer: LoopTimer?
        private var body: [UInt8] = []
        private var answer: Answer?
        private var headSent = false
        private var paused = false

        init(transport: Transport, request: S3WireRequest, handlers: S3WireHandlers) {
            self.transport = transport
            self.request = request
            self.handlers = handlers
        }

        func schedule() {
            if timer == nil { timer = LoopTimer(on: transport.loop) { [weak self] in self?.step() } }
            timer?.start(afterMillis: 0)
        }

        /// Reads the request body, then serves it and sends the answer; stops where the connection pauses.
        private func step() {
            guard let handlers else { return }
            if answer == nil {
                if let read = handlers.readBody, request.uploadLength != nil {
                    var buffer = [UInt8](repeating: 0, count: 65_536)
                    while true {
                        guard let count = buffer.withUnsafeMutableBytes({ read($0) }) else { return }  // resumed later
                        if count == 0 { break }
                        body += buffer[..<count]
                    }
                }
                answer = serve()
            }
            guard var answer else { return }
            if !headSent {
                headSent = true
                handlers.onHead(answer.status, answer.headers)
            }
            if !answer.body.isEmpty && request.method != "HEAD" {
                let verdict = answer.body.withUnsafeBytes { handlers.onData($0) }
                switch verdict {
                case .accept: answer.body = []
                case .pause:
                    self.answer = answer
                    return
                case .abort:
                    return end(.failure(CurlFailure(kind: .transport, message: "aborted by the reader", headersSent: true)))
                }
            }
            self.answer = answer
            end(.success(()))
        }

        private func serve() -> Answer {
            let url = URLComponents(string: request.url)
            let path = url?.percentEncodedPath.removingPercentEncoding ?? "/"
            let query = (url?.percentEncodedQueryItems ?? []).map { ($0.name.removingPercentEncoding ?? $0.name, $0.value?.removingPercentEncoding ?? "") }
            return transport.s3.serve(method: request.method, path: path.isEmpty ? "/" : path, query: query, body: body)
        }

        private func end(_ outcome: Result<Void, CurlFailure>) {
            guard let handlers else { return }
            self.handlers = nil
            transport.calls[ObjectIdentifier(self)] = nil
            timer?.close()
            timer = nil
            handlers.onFinish(outcome)
        }

        func cancel() { end(.failure(CurlFailure(kind: .cancelled, message: "cancelled", headersSent: headSent))) }
        func resume() { schedule() }
        func resumeNextTurn() { schedule() }
    }
}
