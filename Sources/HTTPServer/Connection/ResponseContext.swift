import JSONKit
/// How a handler answers: return a response, or keep this and answer later from another callback on the same loop
/// (`respond`), or stream (`startStream`, `write`, `finish`). Bound to its connection's loop thread. A detached
/// context (no connection: the in-process client) keeps the one response it is given.
public final class ResponseContext {
    private unowned let attached: Connection?
    /// What a detached context was answered with.
    private(set) var detachedResponse: HTTPResponse?
    /// Streaming and body flow need a socket; the in-process client serves only whole answers.
    var connection: Connection {
        guard let attached else { preconditionFailure("streaming needs a connection; the in-process client answers whole responses only") }
        return attached
    }
    var attachedConnection: Connection? { attached }
    public let requestId: String
    let head: HTTPRequestHead
    private var done = false
    private var streaming = false
    private var streamedBytes = 0
    /// Called if the client goes away before the response is finished (the admin proxy cancels its transfer).
    public var onConnectionLost: (() -> Void)?
    /// For routes added with `streamsBody: true`: each piece of the request body as it arrives, then the end.
    public var onBodyChunk: (([UInt8]) -> Void)?
    public var onBodyEnd: (() -> Void)?
    private var bodyChunksSeen = false

    /// Stops reading the request body from the socket (the consumer is behind); `resumeBody` starts again.
    public func pauseBody() { connection.setBodyPaused(true) }
    public func resumeBody() { connection.setBodyPaused(false) }

    /// Handlers often capture this context in these closures; dropping them when the exchange ends breaks the cycle.
    private func dropHandlers() {
        onBodyChunk = nil
        onBodyEnd = nil
        onConnectionLost = nil
    }

    func bodyChunk(_ bytes: [UInt8]) { onBodyChunk?(bytes) }
    func bodyEnded() { onBodyEnd?() }

    init(connection: Connection?, requestId: String, head: HTTPRequestHead) {
        attached = connection
        self.requestId = requestId
        self.head = head
    }

    /// True once the server is shutting down (`/readyz` answers 503).
    public var isDraining: Bool { attached?.draining ?? false }

    /// Whether a response (or a streamed response head) has been sent.
    public var hasStarted: Bool { streaming || done }

    /// Whether the client is still there.
    public var isOpen: Bool { !(attached?.isClosing ?? false) && !done }

    public func respond(_ response: HTTPResponse) {
        guard attached != nil else {
            if !done { detachedResponse = response }
            done = true
            return
        }
        guard !done, !streaming, !connection.isClosing else { return }
        done = true
        let keepAlive = connection.keepAlive && !response.headers.contains { $0.name.caseInsensitiveEquals("connection") && $0.value.caseInsensitiveEquals("close") }
        let bytes = HTTPResponseWriter.serialize(
            response, keepAlive: keepAlive, http10: head.versionMajor == 1 && head.versionMinor == 0,
            requestId: requestId, dateLine: connection.dateLine, headRequest: head.method == "HEAD")
        connection.write(bytes)
        dropHandlers()
        connection.finished(status: response.status.code, bytes: response.body.count, keepAlive: keepAlive)
    }

    /// Starts a chunked response.
    public func startStream(status: HTTPStatus, headers: [(name: String, value: String)]) {
        guard !done, !streaming, !connection.isClosing else { return }
        streaming = true
        streamStatus = status.code
        connection.write(
            HTTPResponseWriter.streamHead(
                status: status, headers: headers, keepAlive: connection.keepAlive, requestId: requestId,
                dateLine: connection.dateLine))
    }

    private var streamStatus = 200

    /// Bytes written and not yet released by their write callbacks; producers pause above their bound and resume
    /// from a `flushed` callback.
    public var queuedBytes: Int { connection.queuedBytes }

    /// Writes one chunk; `flushed` runs when it has reached the kernel (backpressure).
    public func write(_ bytes: [UInt8], flushed: (() -> Void)? = nil) {
        guard streaming, !done, !bytes.isEmpty else { return }
        streamedBytes += bytes.count
        if head.method == "HEAD" {
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
        guard streaming, !done else { return }
        done = true
        if head.method != "HEAD" { connection.write(HTTPResponseWriter.chunk([])) }
        dropHandlers()
        connection.finished(status: streamStatus, bytes: streamedBytes, keepAlive: connection.keepAlive)
    }

    /// Aborts a streamed response: the client sees a truncated chunked body and a closed connection.
    public func abort() {
        guard !done else { return }
        done = true
        dropHandlers()
        connection.closeWhenFlushed()
    }

    func connectionLost() {
        guard !done else {
            dropHandlers()
            return
        }
        done = true
        let lost = onConnectionLost
        dropHandlers()
        lost?()
    }
}
