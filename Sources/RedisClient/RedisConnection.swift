internal import CUV
import UVLoop

/// One Redis connection on a worker's libuv loop, made again by itself when it fails. Create it, use it and close it
/// on that loop's thread. The lifecycle is `RedisConnectionCore`'s; this glue carries out its actions: the socket
/// (`RedisSocket`, one per attempt), RESP in (`RESPParser`, every limit checked as the bytes arrive) and out
/// (`RESPWriter`), one uv_timer for every deadline, and the callers' callbacks. A socket holds its connection
/// (`RedisSocket.owner`) until the socket is closed; the timer holds it from `close` until its close callback.
public final class RedisConnection {
    typealias Core = RedisConnectionCore<SystemRandomNumberGenerator>

    struct Waiter {
        let done: (Result<RedisReply, RedisError>) -> Void
        let started: UInt64
    }

    let settings: RedisSettings
    let hooks: RedisHooks
    let loop: UnsafeMutablePointer<uv_loop_t>
    private let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    var core: Core
    private var waiters: [UInt64: Waiter] = [:]
    private var nextID: UInt64 = 1
    /// Events that arrived while actions were being carried out; run by the loop in `feed`.
    private var queued: [Core.Event] = []
    private var queueHead = 0
    private var performing = false
    private(set) var closed = false

    /// The current attempt's socket, and whether it has connected.
    var socket: RedisSocket?
    var socketConnected = false
    /// Replies read on the current socket; made new with each socket.
    var parser = RESPParser()
    /// The ids of the commands written on the current socket and not yet answered, oldest first from `inFlightHead`:
    /// replies come back in the order the commands went.
    var inFlight: [UInt64] = []
    var inFlightHead = 0
    /// The generation whose host name is being resolved (uv_getaddrinfo), if any.
    var resolving: UInt64?

    /// Starts connecting at once. Call it on `loop`'s thread; the worker's shutdown closes it.
    public init(settings: RedisSettings, loop eventLoop: EventLoop, hooks: RedisHooks = RedisHooks()) {
        self.settings = settings
        self.hooks = hooks
        loop = eventLoop.rawLoop.assumingMemoryBound(to: uv_loop_t.self)
        core = Core(configuration: .init(
            connectTimeoutMillis: UInt64(settings.connectTimeoutMillis),
            commandTimeoutMillis: UInt64(settings.commandTimeoutMillis),
            maxInFlight: settings.maxInFlight,
            backoff: Backoff(initialMillis: UInt64(settings.backoffInitialMillis), capMillis: UInt64(settings.backoffCapMillis)),
            handshake: settings.handshake
        ), random: SystemRandomNumberGenerator())
        uv_timer_init(loop, timer)
        timer.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        // Strong: the connection lives at least until the worker stops, so its timer is closed before deinit.
        eventLoop.onShutdown { [self] in close() }
        feed(.start)
    }

    deinit {
        // Reached only after the timer's close callback released its reference (see `close`).
        timer.deallocate()
    }

    /// Sends one command (its arguments as bytes, binary-safe). `done` runs once on the loop thread: with the reply
    /// (error replies included), or with a failure. It may run before `send` returns when there is no connection
    /// (`.unavailable`) or too many commands are in flight.
    public func send(_ arguments: [[UInt8]], _ done: @escaping (Result<RedisReply, RedisError>) -> Void) {
        let id = nextID
        nextID += 1
        waiters[id] = Waiter(done: done, started: uv_hrtime())
        feed(.submit(id: id, arguments: arguments))
    }

    /// Drops the connection and stops reconnecting; pending commands fail with `.disconnected`, later ones with
    /// `.unavailable("closed")`. Idempotent.
    public func close() {
        guard !closed else { return }
        feed(.close)
        closed = true
        uv_timer_stop(timer)
        // The timer's memory must outlive its close: the handle keeps `self` retained until libuv is done with it.
        timer.pointee.data = Unmanaged.passRetained(self).toOpaque()
        timer.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { handle in
            uv_close(handle) { handle in Unmanaged<RedisConnection>.fromOpaque(handle!.pointee.data).release() }
        }
    }

    /// Whether a connection is up and taking commands.
    public var isConnected: Bool {
        if case .connected = core.phase { return true }
        return false
    }

    /// Runs `event` through the core and carries out its actions; events that arrive meanwhile (a failed write,
    /// callers sending from their callbacks) are queued and run here, never from inside an action.
    func feed(_ event: Core.Event) {
        queued.append(event)
        guard !performing else { return }
        performing = true
        while queueHead < queued.count {
            let next = queued[queueHead]
            queueHead += 1
            for action in core.handle(next, now: uv_now(loop)) { carryOut(action) }
        }
        queued.removeAll(keepingCapacity: queued.capacity <= 64)
        queueHead = 0
        performing = false
        rearm()
    }

    private func carryOut(_ action: Core.Action) {
        switch action {
        case .connect(let generation):
            connect(generation)
        case .write(let id, let arguments):
            write(id: id, arguments: arguments)
        case .complete(let id, let result):
            guard let waiter = waiters.removeValue(forKey: id) else { return }
            switch result {
            case .success: hooks.latency(uv_hrtime() &- waiter.started)
            case .failure(let error): hooks.error(error.kind)
            }
            waiter.done(result)
        case .disconnect:
            dropSocket()
        case .reconnected:
            hooks.reconnect()
        case .report(let kind):
            hooks.error(kind)
        }
    }

    func rearm() {
        guard !closed else { return }
        let now = uv_now(loop)
        guard let due = core.nextDeadline else {
            uv_timer_stop(timer)
            return
        }
        uv_timer_start(timer, { timer in
            let connection = Unmanaged<RedisConnection>.fromOpaque(timer!.pointee.data).takeUnretainedValue()
            connection.timerFired()
        }, due > now ? due - now : 0, 0)
    }

    private func timerFired() {
        feed(.tick)
    }
}
