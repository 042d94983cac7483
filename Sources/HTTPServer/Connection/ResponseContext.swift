import JSONKit
import UVLoop
/// How a handler answers: return a response, or keep this and answer later from another callback on the same loop
/// (`respond`), or stream (`startStream`, `write`, `finish`). Bound to its connection's loop thread. The same context
/// serves the in-process client (`InProcessClient`): there the answer goes to its `InProcessExchange`, on the
/// client's loop, by the same calls.
///
/// This is the one way to answer later, and it owns the question "is the client still there". It holds its
/// connection strongly while the exchange is live (the connection holds it back; the cycle ends when the exchange
/// does: answered, streamed to the end, aborted, or the client gone). An answer that comes after the client left
/// (closed, half-closed, reset, timed out, or dropped by a drain) is dropped, its handlers released, and counted once
/// through the server's `lateAnswerDropped` hook by route. A context belongs to one request: a late answer can never
/// reach the next request on the same socket, which gets a context of its own.
public final class ResponseContext {
    /// The connection while the exchange is live; nil once it has ended, and always in process.
    private var attached: Connection?
    /// The in-process client's exchange while it is live; nil once it has ended, and always for a socket.
    private var exchange: InProcessExchange?
    /// The socket's worker; nil in process.
    private let worker: Worker?
    private var inProcess: Bool { worker == nil }
    /// The in-process client's count of answers that found their client gone, by route.
    private let inProcessDropped: ((String) -> Void)?
    /// The route pattern that took the request (`/l/{id}`), for the late-answer count.
    public internal(set) var route: String = "-"
    /// The loop this request runs on, fixed when the request arrives: it outlives the connection, so glue that
    /// answers later may ask for it whatever the client did. In process, the client's loop (nil without one).
    public let eventLoopIfAttached: EventLoop?
    /// Body flow control needs a socket; the in-process client hands the body over whole.
    var connection: Connection? { attached }
    public let requestId: String
    let head: HTTPRequestHead
    private var done = false
    private var streaming = false
    private var streamedBytes = 0
    /// The client left before the answer: everything said from now on is dropped (and counted once).
    private var gone = false
    private var dropCounted = false
    /// Called if the client goes away before the response is finished (the admin proxy cancels its transfer).
    public var onConnectionLost: (() -> Void)?
    /// For routes added with `streamsBody: true`: each piece of the request body as it arrives, then the end.
    public var onBodyChunk: (([UInt8]) -> Void)?
    public var onBodyEnd: (() -> Void)?

    /// Stops reading the request body from the socket (the consumer is behind); `resumeBody` starts again.
    public func pauseBody() { attached?.setBodyPaused(true) }
    public func resumeBody() { attached?.setBodyPaused(false) }

    /// Handlers often capture this context in these closures; dropping them when the exchange ends breaks the cycle.
    private func dropHandlers() {
        onBodyChunk = nil
        onBodyEnd = nil
        onConnectionLost = nil
    }

    /// The exchange is over: the connection and the handlers are let go.
    private func end() {
        done = true
        attached = nil
        exchange = nil
        dropHandlers()
    }

    func bodyChunk(_ bytes: [UInt8]) { onBodyChunk?(bytes) }
    func bodyEnded() { onBodyEnd?() }

    init(connection: Connection, requestId: String, head: HTTPRequestHead) {
        attached = connection
        worker = connection.worker
        inProcessDropped = nil
        eventLoopIfAttached = EventLoop(connection.worker.context)
        self.requestId = requestId
        self.head = head
    }

    init(exchange: InProcessExchange, requestId: String, head: HTTPRequestHead, lateAnswerDropped: ((String) -> Void)?) {
        self.exchange = exchange
        worker = nil
        inProcessDropped = lateAnswerDropped
        eventLoopIfAttached = exchange.loop
        self.requestId = requestId
        self.head = head
        exchange.context = self
    }

    /// True once the server (or the in-process client's loop) is shutting down (`/readyz` answers 503).
    public var isDraining: Bool { eventLoopIfAttached?.isDraining ?? false }

    /// Whether a response (or a streamed response head) has been sent.
    public var hasStarted: Bool { streaming || done }

    /// Whether the client is still there and unanswered: the one liveness question for late work.
    public var isOpen: Bool {
        if inProcess { return exchange != nil && !done }
        guard let attached else { return false }
        return !attached.isClosing && !done
    }

    /// Counts an answer that found its client gone (once per request).
    private func dropLate() {
        guard gone, !dropCounted else { return }
        dropCounted = true
        if let worker {
            worker.server.configuration.lateAnswerDropped?(worker.index, route)
        } else {
            inProcessDropped?(route)
        }
    }

    /// What the answer passes through before it is sent, or dropped (the client left: it is still counted): the
    /// endpoint wrappers' hooks, composed in the order added. Runs once, on the first answer; a streamed answer's
    /// head passes through it too. Hooks hold no context, so keeping this until the context goes makes no cycle.
    private var answerHook: ((inout HTTPResponse) -> Void)?

    /// Adds a hook that sees this request's answer whenever it comes, before it is sent: CORS headers, the request
    /// metrics (`EndpointWrapper`). An answer that finds the client gone still passes through it.
    public func onAnswer(_ hook: @escaping (inout HTTPResponse) -> Void) {
        if let earlier = answerHook {
            answerHook = { response in
                earlier(&response)
                hook(&response)
            }
        } else {
            answerHook = hook
        }
    }

    /// Runs the hooks on the answer (once) and lets them go.
    private func passHooks(_ response: inout HTTPResponse) {
        guard let hook = answerHook else { return }
        answerHook = nil
        hook(&response)
    }

    public func respond(_ response: HTTPResponse) {
        var response = response
        passHooks(&response)
        if inProcess {
            guard let exchange, !done, !streaming else {
                if !done || gone { dropLate() }
                return
            }
            end()
            exchange.deliver(response)
            return
        }
        guard let connection = attached, !done, !streaming, !connection.isClosing else {
            if !done || gone { dropLate() }
            return
        }
        if connection.readingStopped && connection.peerLeft {
            // Gone while nothing was reading its socket: close it, which ends this exchange as departed.
            connection.close()
            dropLate()
            return
        }
        let keepAlive = connection.keepAlive && !response.headers.contains { $0.name.caseInsensitiveEquals("connection") && $0.value.caseInsensitiveEquals("close") }
        let http10 = head.versionMajor == 1 && head.versionMinor == 0
        let headRequest = head.method == .head
        let dateLine = connection.dateLine
        end()
        connection.write(serializing: { out in
            HTTPResponseWriter.serialize(
                response, keepAlive: keepAlive, http10: http10, requestId: requestId, dateLine: dateLine,
                headRequest: headRequest, into: &out)
        })
        connection.finished(status: response.status.code, bytes: response.body.count, keepAlive: keepAlive)
    }

    /// Starts a chunked response.
    public func startStream(status: HTTPStatus, headers: [(name: String, value: String)]) {
        var streamed = HTTPResponse(status: status, headers: headers)
        passHooks(&streamed)
        let (status, headers) = (streamed.status, streamed.headers)
        if inProcess {
            guard let exchange, !done, !streaming else { return dropLate() }
            streaming = true
            exchange.startStream(status: status, headers: headers)
            return
        }
        guard let connection = attached, !done, !streaming, !connection.isClosing else {
            dropLate()
            return
        }
        streaming = true
        streamStatus = status.code
        connection.write(
            HTTPResponseWriter.streamHead(
                status: status, headers: headers, keepAlive: connection.keepAlive, requestId: requestId,
                dateLine: connection.dateLine))
    }

    private var streamStatus = 200

    /// Bytes written and not yet released by their write callbacks; producers pause above their bound and resume
    /// from a `flushed` callback. Zero once the exchange has ended.
    public var queuedBytes: Int { attached?.queuedBytes ?? 0 }

    /// Writes one chunk; `flushed` runs when it has reached the kernel (backpressure).
    public func write(_ bytes: [UInt8], flushed: (() -> Void)? = nil) {
        if inProcess {
            guard let exchange, streaming, !done, !bytes.isEmpty else { return }
            streamedBytes += bytes.count
            exchange.append(head.method == "HEAD" ? [] : bytes, flushed: flushed)
            return
        }
        guard let connection = attached, streaming, !done, !bytes.isEmpty else { return }
        streamedBytes += bytes.count
        if head.method == .head {
            connection.write([], flushed: flushed)
        } else {
            var size = Array(String(bytes.count, radix: 16).utf8)
            size += "\r\n".utf8
            connection.write(parts: [size, bytes, Self.crlf], flushed: flushed)
        }
    }

    static let crlf: [UInt8] = [0x0D, 0x0A]

    /// Ends a streamed response.
    public func finish() {
        if inProcess {
            guard let exchange, streaming, !done else { return }
            end()
            exchange.finishStream()
            return
        }
        guard let connection = attached, streaming, !done else { return }
        end()
        if head.method != .head { connection.write(HTTPResponseWriter.chunk([])) }
        connection.finished(status: streamStatus, bytes: streamedBytes, keepAlive: connection.keepAlive)
    }

    /// Aborts a streamed response: the client sees a truncated chunked body and a closed connection.
    public func abort() {
        if inProcess {
            guard let exchange, !done else { return }
            end()
            exchange.abortStream()
            return
        }
        guard let connection = attached, !done else { return }
        end()
        connection.closeWhenFlushed()
    }

    /// The connection is going (closed, reset, timed out, lingering after an answer, drained): called by it once.
    func connectionLost() {
        guard !done else {
            end()
            return
        }
        gone = true
        let lost = onConnectionLost
        end()
        lost?()
    }
}
