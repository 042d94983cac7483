/// The protocol logic of one connection, without sockets: bytes and clock ticks in, actions out.
/// The libuv glue only carries the actions out; tests drive it directly with a fake clock (milliseconds).
public final class HTTPConnectionCore {
    public struct Timeouts: Sendable {
        public var headerMillis: UInt64 = 10_000
        public var idleMillis: UInt64 = 60_000
        /// A buffered body (the presign API's JSON) must arrive whole within this, however it trickles in. A
        /// streamed body (admin uploads, gigabytes) must instead keep up `minBodyBytesPerSecond` over every window
        /// of this length, so a client cannot hold the connection by sending a byte now and then.
        public var bodyMillis: UInt64 = 30_000
        public var minBodyBytesPerSecond: UInt64 = 1024
        /// How long a response may wait for a client that does not read it (the output queue is over its bound).
        public var sendMillis: UInt64 = 30_000

        public init(
            headerMillis: UInt64 = 10_000, idleMillis: UInt64 = 60_000, bodyMillis: UInt64 = 30_000,
            minBodyBytesPerSecond: UInt64 = 1024, sendMillis: UInt64 = 30_000
        ) {
            self.headerMillis = headerMillis
            self.idleMillis = idleMillis
            self.bodyMillis = bodyMillis
            self.minBodyBytesPerSecond = minBodyBytesPerSecond
            self.sendMillis = sendMillis
        }
    }

    public enum Action: Equatable {
        /// A complete request for the router; the glue answers with `responded(keepAlive:now:)`.
        case dispatch(HTTPRequestHead.Summary, body: [UInt8])
        /// A request whose body is streamed: the head now, then `bodyChunk`s and `bodyEnd`.
        case dispatchStreaming(HTTPRequestHead.Summary)
        case bodyChunk([UInt8])
        case bodyEnd
        /// `HTTP/1.1 100 Continue`.
        case sendContinue
        /// Answer with this error and close.
        case reject(HTTPRequestError)
        /// Close without a response (idle keep-alive timeout, drain, peer gone, a client that stopped reading).
        case close
        case pauseReading
        case resumeReading
    }

    enum State: Equatable {
        case waiting
        case readingBody
        /// A streamed body is being passed to a handler that is already running.
        case streamingBody
        case handling
        case closed
    }

    let timeouts: Timeouts
    let decoder: HTTPRequestDecoder
    private(set) var state = State.waiting
    /// When the current timer fires, in the glue's clock.
    public private(set) var deadline: UInt64
    private var body: [UInt8] = []
    private var draining = false
    private var readingPaused = false
    /// Pipelined bytes held while a request is handled; above this, reading pauses.
    let maxBuffered: Int

    /// The handler asked for no more body for now (its consumer is slow): the body timer is off meanwhile.
    private var bodyPaused = false
    /// Streamed-body bytes seen in the current rate window (see `Timeouts.minBodyBytesPerSecond`).
    private var windowBytes: UInt64 = 0
    /// The glue's output queue is over its bound (the client is not reading): no further pipelined request is
    /// started until it drains, so a client cannot make the server queue responses without limit.
    private var outputBlocked = false

    public init(
        limits: HTTPRequestDecoder.Limits = .init(), timeouts: Timeouts = .init(), now: UInt64,
        streaming: ((_ method: HTTPMethod, _ path: Substring) -> Bool)? = nil, streamingBodyLimit: Int64 = 5 << 30
    ) {
        self.timeouts = timeouts
        decoder = HTTPRequestDecoder(limits: limits)
        decoder.streamingPredicate = streaming
        decoder.streamingBodyLimit = streamingBodyLimit
        deadline = now + timeouts.headerMillis
        maxBuffered = limits.maxHeaderBytes * 4
    }

    /// The head of the request being read or handled.
    public var head: HTTPRequestHead? { decoder.currentHead }

    public var isIdle: Bool { state == .waiting && decoder.bufferedBytes == 0 }

    public func received(_ bytes: UnsafeRawBufferPointer, now: UInt64) -> [Action] {
        var actions: [Action] = []
        received(bytes, now: now, into: &actions)
        return actions
    }

    /// `received(_:now:)` appending its actions to the caller's queue: the glue keeps one, where a new array per
    /// read cost an allocation a request.
    public func received(_ bytes: UnsafeRawBufferPointer, now: UInt64, into actions: inout [Action]) {
        guard state != .closed else { return }
        decoder.feed(bytes)
        if state == .handling || (state == .waiting && outputBlocked) {
            if decoder.bufferedBytes > maxBuffered && !readingPaused {
                readingPaused = true
                actions.append(.pauseReading)
            }
            return
        }
        pump(now: now, into: &actions)
    }

    public func received(_ bytes: [UInt8], now: UInt64) -> [Action] {
        bytes.withUnsafeBytes { received($0, now: now) }
    }

    /// The handler's response has been queued. `keepAlive` false (or draining) closes after it.
    public func responded(keepAlive: Bool, now: UInt64) -> [Action] {
        if state == .streamingBody {
            // Answered before the body ended: the rest of it will not be read, so the connection closes.
            state = .closed
            return [.close]
        }
        guard state == .handling else { return [] }
        body = []
        if !keepAlive || draining {
            state = .closed
            return [.close]
        }
        state = .waiting
        deadline = now + (outputBlocked ? timeouts.sendMillis : timeouts.idleMillis)
        var actions: [Action] = []
        if outputBlocked { return actions }
        if readingPaused {
            readingPaused = false
            actions.append(.resumeReading)
        }
        pump(now: now, into: &actions)
        return actions
    }

    /// Whether the response to the current request may keep the connection open.
    public var keepAlive: Bool { !draining && (decoder.currentHead?.keepAlive ?? false) }

    /// Stop taking new requests: idle connections close now, busy ones after their response.
    public func drain() -> [Action] {
        draining = true
        if state == .waiting && decoder.bufferedBytes == 0 {
            state = .closed
            return [.close]
        }
        return []
    }

    /// The handler of a streamed body pauses or resumes it (the glue stops or restarts reading the socket).
    public func setBodyPaused(_ paused: Bool, now: UInt64) {
        bodyPaused = paused
        if !paused {
            windowBytes = 0
            deadline = now + timeouts.bodyMillis
        }
    }

    /// The glue's queue of unsent output went over (true) or back under (false) its bound. While it is over, no
    /// new request starts and reading pauses once `maxBuffered` bytes wait; a client that reads nothing for
    /// `sendMillis` is closed.
    public func setOutputBlocked(_ blocked: Bool, now: UInt64) -> [Action] {
        guard blocked != outputBlocked, state != .closed else { return [] }
        outputBlocked = blocked
        guard state == .waiting else { return [] }
        if blocked {
            deadline = now + timeouts.sendMillis
            return []
        }
        deadline = now + timeouts.idleMillis
        var actions: [Action] = []
        if readingPaused {
            readingPaused = false
            actions.append(.resumeReading)
        }
        pump(now: now, into: &actions)
        return actions
    }

    /// Timer check.
    public func tick(now: UInt64) -> [Action] {
        guard now >= deadline else { return [] }
        switch state {
        case .streamingBody:
            if bodyPaused { return [] }
            // Over the last window the client must have sent at least the minimum rate; then a new window starts.
            let needed = timeouts.minBodyBytesPerSecond * timeouts.bodyMillis / 1000
            if windowBytes >= max(needed, 1) {
                windowBytes = 0
                deadline = now + timeouts.bodyMillis
                return []
            }
            state = .closed
            return [.reject(.bodyTimeout)]
        case .waiting:
            state = .closed
            if outputBlocked { return [.close] }
            return decoder.inPartialHead ? [.reject(.headerTimeout)] : [.close]
        case .readingBody:
            state = .closed
            return [.reject(.bodyTimeout)]
        case .handling, .closed:
            return []
        }
    }

    private func pump(now: UInt64, into actions: inout [Action]) {
        while (state == .waiting && !outputBlocked) || state == .readingBody || state == .streamingBody {
            guard let event = decoder.next() else {
                if state == .waiting && decoder.inPartialHead && deadline > now + timeouts.headerMillis {
                    deadline = now + timeouts.headerMillis
                }
                return
            }
            switch event {
            case .head:
                state = decoder.currentStreams ? .streamingBody : .readingBody
                bodyPaused = false
                windowBytes = 0
                deadline = now + timeouts.bodyMillis
                if let head = decoder.currentHead, head.expectsContinue,
                    (head.contentLength ?? 0) > 0 || head.chunked
                {
                    actions.append(.sendContinue)
                }
                if state == .streamingBody { actions.append(.dispatchStreaming(decoder.currentHead!.summary)) }
            case .body(let bytes):
                if state == .streamingBody {
                    windowBytes += UInt64(bytes.count)
                    actions.append(.bodyChunk(bytes))
                } else {
                    // The deadline set at the head stands: a buffered body must arrive whole within bodyMillis.
                    body += bytes
                }
            case .end:
                if state == .streamingBody {
                    state = .handling
                    actions.append(.bodyEnd)
                } else {
                    state = .handling
                    actions.append(.dispatch(decoder.currentHead!.summary, body: body))
                    body = []
                }
            case .error(let error):
                state = .closed
                actions.append(.reject(error))
            }
        }
    }
}

extension HTTPRequestHead {
    /// Method and target: what tests compare in `dispatch` actions.
    public struct Summary: Equatable, Sendable {
        public let method: HTTPMethod
        public let target: String

        public init(method: HTTPMethod, target: String) {
            self.method = method
            self.target = target
        }
    }

    public var summary: Summary { Summary(method: method, target: target) }
}
