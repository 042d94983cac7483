import Foundation
internal import CUV
import JSONKit

/// The libuv side of one TCP connection: reads feed `HTTPConnectionCore`, its actions become writes and closes.
/// `self` travels as `Unmanaged` in `handle->data`: retained when opened, released in the close callback.
/// The worker is held strongly (it holds its connections back until `connectionClosed`); the current request's
/// `ResponseContext` holds the connection while its exchange is live, so an answer that comes late finds a closed
/// connection, never a freed one.
final class Connection {
    let worker: Worker
    let admin: Bool
    let core: HTTPConnectionCore
    let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
    private var pendingWrites = 0
    /// When a write last completed (or the first of a run was queued); see `stalledWriteMillis`.
    private var writeProgressAt: UInt64 = 0
    private var watchedQueueBytes = 0
    /// No write completed for this long while some wait: the client is not reading, and the connection is closed.
    static let stalledWriteMillis: UInt64 = 30_000
    private var closeAfterWrites = false
    var closing = false
    var started: UInt64 = 0
    var context: ResponseContext?
    /// Actions waiting to be carried out. A handler that answers at once calls `finished` from inside `dispatch`,
    /// and the core's answer to that (the next pipelined request) is queued here and run by the loop in
    /// `perform`, never from inside the action that produced it: the stack stays flat however many requests a
    /// client pipelines.
    private(set) var queued: [HTTPConnectionCore.Action] = []
    private var queueHead = 0
    private var performing = false
    /// Above this many unsent response bytes the core starts no further pipelined request; below the low mark it
    /// resumes. Per-connection output memory is bounded by this plus one response.
    static let maxQueuedOutput = 256 * 1024
    static let resumeQueuedOutput = 64 * 1024
    var outputBlocked = false
    /// After an answer that ends the connection, the client may still be sending a body nobody read (a 413 for a
    /// declared 2 MiB upload). Closing at once makes the kernel reset the connection, and the client's write fails
    /// before it reads the answer. So the connection lingers: it shuts its sending side (FIN after the answer) and
    /// reads and discards, until the client closes, or for at most `lingerMillis` and `lingerBytes`.
    static let lingerMillis: UInt64 = 2000
    static let lingerBytes = 16 << 20
    var lingerUntil: UInt64?
    var lingeredBytes = 0
    var clientRequestId: String?
    /// The client's IP, read once when the connection is accepted.
    private(set) var peerAddress = ""

    init(worker: Worker, admin: Bool, now: UInt64) {
        self.worker = worker
        self.admin = admin
        let configuration = worker.server.configuration
        let streaming: (@Sendable (HTTPMethod, Substring) -> Bool)?
        if admin { streaming = worker.server.adminStreaming } else { streaming = worker.server.publicStreaming }
        core = HTTPConnectionCore(
            limits: configuration.limits, timeouts: configuration.timeouts, now: now, streaming: streaming,
            streamingBodyLimit: configuration.maxStreamedBodyBytes)
    }

    var stream: UnsafeMutablePointer<uv_stream_t> { UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self) }
    private var handle: UnsafeMutablePointer<uv_handle_t> { UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_handle_t.self) }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> Connection {
        Unmanaged<Connection>.fromOpaque(pointer!).takeUnretainedValue()
    }

    func open(from server: UnsafeMutablePointer<uv_stream_t>) -> Bool {
        uv_tcp_init(worker.loop, tcp)
        tcp.pointee.data = Unmanaged.passRetained(self).toOpaque()
        guard uv_accept(server, stream) == 0 else {
            close()
            return false
        }
        uv_tcp_nodelay(tcp, 1)
        peerAddress = Self.peerName(tcp)
        startReading()
        return true
    }

    /// Every read of every connection lands in the worker's one 64 KiB buffer (the bytes are consumed before the
    /// callback returns), for requests and for the discarding reads of a lingering close alike.
    static let lendReadBuffer: uv_alloc_cb = { handle, _, buffer in
        let worker = Connection.from(handle!.pointee.data).worker
        buffer!.pointee.base = worker.readBuffer.assumingMemoryBound(to: CChar.self)
        buffer!.pointee.len = 65_536
    }

    private func startReading() {
        uv_read_start(
            stream,
            Connection.lendReadBuffer,
            { stream, count, buffer in
                let connection = Connection.from(stream!.pointee.data)
                if count < 0 {
                    connection.close()
                    return
                }
                guard count > 0 else { return }
                let bytes = UnsafeRawBufferPointer(start: buffer!.pointee.base, count: count)
                connection.core.received(bytes, now: uv_now(connection.worker.loop), into: &connection.queued)
                connection.perform([])
            })
    }

    func tick(now: UInt64) {
        // A client that takes none of the bytes written to it (a streamed download it never reads, or the answer
        // before a close) is let go: its writes, and what produces them, are not held forever.
        // Progress is a write completing or libuv's queue for this socket shrinking (a big write being taken).
        if pendingWrites > 0 {
            let waiting = uv_stream_get_write_queue_size(stream)
            if waiting < watchedQueueBytes { writeProgressAt = now }
            watchedQueueBytes = waiting
            if now >= writeProgressAt + Self.stalledWriteMillis {
                close()
                return
            }
        }
        if let lingerUntil {
            if now >= lingerUntil { close() }
            return
        }
        perform(core.tick(now: now))
    }

    /// A streamed body's handler stops or restarts the flow (backpressure towards the client).
    func setBodyPaused(_ paused: Bool) {
        guard !closing else { return }
        core.setBodyPaused(paused, now: uv_now(worker.loop))
        readingStopped = paused
        if paused { uv_read_stop(stream) } else { startReading() }
    }

    func drain() { perform(core.drain()) }

    func perform(_ actions: [HTTPConnectionCore.Action]) {
        if !actions.isEmpty { queued += actions }
        guard !performing else { return }
        performing = true
        defer {
            performing = false
            queued.removeAll(keepingCapacity: queued.capacity <= 64)
            queueHead = 0
        }
        while queueHead < queued.count {
            let action = queued[queueHead]
            queueHead += 1
            guard !closing else { return }
            carryOut(action)
        }
    }

    private func carryOut(_ action: HTTPConnectionCore.Action) {
        switch action {
        case .dispatch(_, let body):
            dispatch(body: body)
        case .dispatchStreaming:
            dispatch(body: [])
        case .bodyChunk(let bytes):
            context?.bodyChunk(bytes)
        case .bodyEnd:
            context?.bodyEnded()
        case .sendContinue:
            write(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        case .reject(let error):
            let head = core.head
            let response = HTTPResponse(error: error)
            started = uv_hrtime()
            let requestId = worker.nextRequestId()
            let dateLine = worker.dateLine
            write(serializing: { out in
                HTTPResponseWriter.serialize(
                    response, keepAlive: false, http10: false, requestId: requestId, dateLine: dateLine,
                    headRequest: false, into: &out)
            })
            accessLog(method: head?.method.name ?? "-", path: head.map { String($0.path) } ?? "-",
                      status: error.status.code, bytes: response.body.count, requestId: requestId)
            closeWhenFlushed()
        case .close:
            closeWhenFlushed()
        case .pauseReading:
            readingStopped = true
            uv_read_stop(stream)
        case .resumeReading:
            readingStopped = false
            startReading()
        }
    }

    private func dispatch(body: [UInt8]) {
        guard let head = core.head else { return }
        started = uv_hrtime()
        let requestId = worker.nextRequestId()
        clientRequestId = Self.validRequestId(head.header(.xRequestId))
        let context = ResponseContext(connection: self, requestId: requestId, head: head)
        self.context = context
        let router = admin ? (worker.server.adminRouter ?? worker.server.router) : worker.server.router
        let request = HTTPRequest(
            head: head, body: body, requestId: requestId, clientAddress: peerAddress, worker: worker.index,
            clientRequestId: clientRequestId)
        switch router.resolve(request) {
        case .handler(let handler, let bound):
            context.route = bound.route
            if let response = handler(bound, context) { context.respond(response) }
        case .answer(let response):
            context.respond(response)
        }
    }

    /// Queues bytes; `flushed` runs when libuv has written them. Memory lives until the write callback.
    func write(_ bytes: [UInt8], flushed: (() -> Void)? = nil) {
        guard !closing else { return }
        let request = worker.takeWrite()
        request.use(single: bytes, connection: self, flushed: flushed)
        submit(request)
    }

    /// One uv_write of several buffers (a chunk's size line, its data, CRLF): the data is not copied again.
    func write(parts: [[UInt8]], flushed: (() -> Void)? = nil) {
        guard !closing else { return }
        let request = worker.takeWrite()
        request.use(parts: parts, connection: self, flushed: flushed)
        submit(request)
    }

    /// Queues what `serialize` writes into a reused buffer (a response head and body).
    func write(serializing serialize: (inout [UInt8]) -> Void) {
        guard !closing else { return }
        let request = worker.takeWrite()
        request.fill(connection: self, serialize)
        submit(request)
    }

    private func submit(_ request: WriteRequest) {
        guard !closing else { return }
        if pendingWrites == 0 { writeProgressAt = uv_now(worker.loop) }
        pendingWrites += 1
        queuedBytes += request.count
        let rc = request.submit(to: stream)
        if rc != 0 {
            pendingWrites -= 1
            queuedBytes -= request.count
            close()
        }
    }

    /// Bytes handed to uv_write whose write callback has not run yet: still queued for the kernel, or written but
    /// not yet released (a synchronous write's callback runs on the next loop turn). Memory held for this
    /// connection's output is this; the streaming API pauses producers above a bound.
    private(set) var queuedBytes = 0

    func writeCompleted(status: Int32, count: Int) {
        pendingWrites -= 1
        queuedBytes -= count
        writeProgressAt = uv_now(worker.loop)
        if status != 0 {
            close()
            return
        }
        if closeAfterWrites && pendingWrites == 0 {
            linger()
            return
        }
        if outputBlocked && queuedBytes <= Self.resumeQueuedOutput {
            outputBlocked = false
            perform(core.setOutputBlocked(false, now: uv_now(worker.loop)))
        }
    }

    func closeWhenFlushed() {
        closeAfterWrites = true
        uv_read_stop(stream)
        if pendingWrites == 0 { linger() }
    }

    func close() {
        guard !closing else { return }
        closing = true
        let lost = context
        context = nil
        lost?.connectionLost()
        uv_close(handle) { handle in
            let unmanaged = Unmanaged<Connection>.fromOpaque(handle!.pointee.data)
            let connection = unmanaged.takeUnretainedValue()
            connection.worker.connectionClosed(connection)
            unmanaged.release()
        }
    }

    var isClosing: Bool { closing }
    /// Reading is stopped (pipelined input at its bound, or a streamed body paused): a client that leaves now is
    /// not seen by a read, so a late answer asks the socket (`peerLeft`).
    private(set) var readingStopped = false
    /// Whether the client has sent its FIN or a reset, read or not (TCP_INFO): one system call.
    var peerLeft: Bool { presignd_uv_tcp_peer_left(tcp) != 0 }
    var draining: Bool { worker.draining }
    var keepAlive: Bool { core.keepAlive }
    var dateLine: [UInt8] { worker.dateLine }

    deinit { tcp.deallocate() }
}
