import UVLoop

/// One request served by the in-process client: where its `ResponseContext` delivers the answer (whole, or a
/// stream collected whole), and how a test makes the client leave before it. Touched only on the client's thread
/// (its loop's, when it has one).
public final class InProcessExchange {
    /// The answer, once it is complete.
    public private(set) var answer: InProcessClient.Answer?
    private let answered: ((InProcessClient.Answer) -> Void)?
    let loop: EventLoop?
    /// The exchange's context while it is unanswered, so `leave` can reach it; let go with the answer.
    var context: ResponseContext?
    /// A streamed answer so far.
    private var stream: HTTPResponse?
    /// `write`'s `flushed` callbacks: run on the loop's next turn (the bytes have reached this client at once), never
    /// from inside the `write` that queued them.
    private var flushes: [() -> Void] = []
    private var flushTimer: LoopTimer?

    init(loop: EventLoop?, answered: ((InProcessClient.Answer) -> Void)?) {
        self.loop = loop
        self.answered = answered
    }

    public var isAnswered: Bool { answer != nil }

    /// The client goes away before its answer, as a closed socket does: the context's `onConnectionLost` runs, and
    /// an answer that comes later is dropped (and counted through the client's `lateAnswerDropped`).
    public func leave() {
        let leaving = context
        context = nil
        leaving?.connectionLost()
    }

    func deliver(_ response: HTTPResponse, aborted: Bool = false) {
        guard answer == nil else { return }
        context = nil
        let answer = InProcessClient.Answer(response: response, aborted: aborted)
        self.answer = answer
        answered?(answer)
    }

    func startStream(status: HTTPStatus, headers: [(name: String, value: String)]) {
        stream = HTTPResponse(status: status, headers: headers)
    }

    func append(_ bytes: [UInt8], flushed: (() -> Void)?) {
        stream?.body += bytes
        guard let flushed else { return }
        guard let loop else { return flushed() }
        flushes.append(flushed)
        if flushTimer == nil {
            let timer = LoopTimer(on: loop) { [weak self] in self?.runFlushes() }
            flushTimer = timer
            loop.onShutdown { timer.close() }
        }
        flushTimer?.start(afterMillis: 0)
    }

    private func runFlushes() {
        let due = flushes
        flushes = []
        for flushed in due { flushed() }
        if answer != nil && flushes.isEmpty {
            flushTimer?.close()
            flushTimer = nil
        }
    }

    func finishStream() { deliver(stream ?? HTTPResponse(status: .ok)) }

    /// A cut stream: what was sent before the cut (status 0 when not even the head was).
    func abortStream() { deliver(stream ?? HTTPResponse(status: HTTPStatus(code: 0)), aborted: true) }
}
