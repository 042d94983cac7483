internal import CHiredis
internal import CUV
import UVLoop

#if canImport(Glibc)
import Glibc
#endif

/// One Redis connection on a worker's libuv loop, made again by itself when it fails. Create it, use it and close it
/// on that loop's thread. The lifecycle is `RedisConnectionCore`'s; this glue carries out its actions: the hiredis
/// context, one uv_timer for every deadline, and the callers' callbacks.
/// `self` travels as `Unmanaged` in each context's `data`, retained when the context opens and released when hiredis
/// lets it go (its disconnect callback, a failed connect callback, or right after freeing one that never connected).
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

    /// The current context and whether hiredis has reported it connected.
    var context: UnsafeMutablePointer<redisAsyncContext>?
    var contextGeneration: UInt64 = 0
    var contextConnected = false
    /// A connect that succeeded, told to the core from the timer: never from inside hiredis's connect callback,
    /// where freeing the context would leave hiredis writing to freed memory.
    var connectedToReport: UInt64?
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
            backoffInitialMillis: UInt64(settings.backoffInitialMillis),
            backoffCapMillis: UInt64(settings.backoffCapMillis),
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

    /// Runs `event` through the core and carries out its actions; events that arrive meanwhile (hiredis callbacks
    /// run by a free, callers sending from their callbacks) are queued and run here, never from inside an action.
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
            dropContext()
        case .reconnected:
            hooks.reconnect()
        case .report(let kind):
            hooks.error(kind)
        }
    }

    func rearm() {
        guard !closed else { return }
        let now = uv_now(loop)
        let due: UInt64? = connectedToReport != nil ? now : core.nextDeadline
        guard let due else {
            uv_timer_stop(timer)
            return
        }
        uv_timer_start(timer, { timer in
            let connection = Unmanaged<RedisConnection>.fromOpaque(timer!.pointee.data).takeUnretainedValue()
            connection.timerFired()
        }, due > now ? due - now : 0, 0)
    }

    private func timerFired() {
        if let generation = connectedToReport {
            connectedToReport = nil
            feed(.connected(generation: generation))
        }
        feed(.tick)
    }
}
