import Foundation
import Logging
import Synchronization
internal import CUV
import UVLoop

/// Runs N workers, each a thread with its own libuv loop listening on the same port(s) with SO_REUSEPORT.
/// The calling thread handles SIGTERM/SIGINT and drains the workers.
public final class HTTPServer: Sendable {
    public let configuration: ServerConfiguration
    /// Every row this server answers, probes included.
    public let endpoints: EndpointTable
    let router: Router
    let adminRouter: Router?
    let logger: Logger
    /// Where access-log lines go (`presignd.access`); the server's logger when none is given.
    let accessLogger: Logger
    /// Set once listeners are bound (port 0 resolves here); for tests and sd_notify later.
    public let boundPorts = Mutex<[Int]>([])

    public init(configuration: ServerConfiguration, endpoints: EndpointTable, logger: Logger, accessLogger: Logger? = nil) {
        self.configuration = configuration
        self.endpoints = endpoints
        router = endpoints.router(for: .public)
        adminRouter = endpoints.listeners.contains(.admin) ? endpoints.router(for: .admin) : nil
        self.logger = logger
        self.accessLogger = accessLogger ?? logger
        publicStreaming = Self.streamingPredicate(self.router)
        adminStreaming = Self.streamingPredicate(self.adminRouter ?? self.router)
    }

    /// Which request heads get streamed bodies, decided once per listener: nil when no route streams.
    let publicStreaming: (@Sendable (HTTPMethod, Substring) -> Bool)?
    let adminStreaming: (@Sendable (HTTPMethod, Substring) -> Bool)?

    static func streamingPredicate(_ router: Router) -> (@Sendable (HTTPMethod, Substring) -> Bool)? {
        guard router.routes.contains(where: { $0.streamsBody }) else { return nil }
        return { method, path in router.streamsBody(method: method, path: path) }
    }

    /// Binds, serves, and returns after a graceful drain. Throws when a listener cannot be bound.
    /// `onReload` runs on the signal thread (never a worker loop) for each SIGHUP; `onDrain` when draining starts;
    /// `onLoopStart` on each worker's thread once its loop is ready, before it serves (background work starts there).
    public func run(
        onListening: (@Sendable ([Int]) -> Void)? = nil, onDrain: (@Sendable () -> Void)? = nil,
        onReload: (@Sendable () -> Void)? = nil, onLoopStart: (@Sendable (EventLoop) -> Void)? = nil
    ) throws {
        // A client that leaves makes the next write to its socket fail: that must be EPIPE on that connection,
        // never SIGPIPE's default action ending the process (libuv writes with plain write(2)).
        presignd_ignore_sigpipe()
        let publicAddress = try ListenAddress(parsing: configuration.listen)
        let adminAddress = try configuration.adminListen.map { addr throws(ServerError) in try ListenAddress(parsing: addr) }
        // Every listener sets SO_REUSEPORT, so a port given to both would bind twice and the kernel would split the
        // connections between the public and the admin routes (each answering the other's paths with 404).
        if let adminAddress, adminAddress.sharesPort(with: publicAddress) {
            throw ServerError(
                "the admin listener \(configuration.adminListen ?? "") and the public listener \(configuration.listen) "
                    + "share port \(publicAddress.port); give the admin listener a port of its own")
        }
        let count = max(1, configuration.workers)
        // The first worker resolves port 0; the others bind the ports it got, so all share them.
        let first = Worker(server: self, index: 0)
        let ports = try first.bind(publicAddress, admin: adminAddress)
        var workers = [first]
        for index in 1..<count {
            let worker = Worker(server: self, index: index)
            _ = try worker.bind(
                ListenAddress(host: publicAddress.host, port: ports[0]),
                admin: adminAddress.map { ListenAddress(host: $0.host, port: ports[1]) })
            workers.append(worker)
        }
        boundPorts.withLock { $0 = ports }
        for worker in workers { worker.onStart = onLoopStart }
        let threads = workers.map { worker in
            let thread = Thread { worker.runLoop() }
            thread.name = "presignd-worker-\(worker.index)"
            thread.stackSize = 1 << 20
            return thread
        }
        threads.forEach { $0.start() }
        onListening?(ports)
        SignalWaiter(workers: workers, drainMillis: configuration.drainMillis, logger: logger, onReload: onReload, onDrain: onDrain).wait()
    }
}

extension ListenAddress {
    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// Blocks the calling thread on its own loop until SIGTERM/SIGINT, then drains workers; a second signal exits.
final class SignalWaiter {
    let workers: [Worker]
    let drainMillis: UInt64
    let logger: Logger
    var signals = 0
    let onReload: (@Sendable () -> Void)?
    let onDrain: (@Sendable () -> Void)?
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    let done = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)

    init(workers: [Worker], drainMillis: UInt64, logger: Logger, onReload: (@Sendable () -> Void)?, onDrain: (@Sendable () -> Void)?) {
        self.workers = workers
        self.drainMillis = drainMillis
        self.logger = logger
        self.onReload = onReload
        self.onDrain = onDrain
    }

    func wait() {
        uv_loop_init(loop)
        loop.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        var handles: [UnsafeMutablePointer<uv_signal_t>] = []
        for signum in [SIGTERM, SIGINT, SIGHUP] {
            let handle = UnsafeMutablePointer<uv_signal_t>.allocate(capacity: 1)
            uv_signal_init(loop, handle)
            uv_signal_start(handle, { handle, signum in
                let waiter = Unmanaged<SignalWaiter>.fromOpaque(handle!.pointee.loop.pointee.data).takeUnretainedValue()
                if signum == SIGHUP {
                    waiter.onReload?()
                } else {
                    waiter.signalled()
                }
            }, signum)
            handles.append(handle)
        }
        uv_async_init(loop, done) { async in
            let waiter = Unmanaged<SignalWaiter>.fromOpaque(async!.pointee.loop.pointee.data).takeUnretainedValue()
            if waiter.workers.allSatisfy({ $0.finished.load(ordering: .acquiring) }) { uv_stop(async!.pointee.loop) }
        }
        for worker in workers { worker.onFinished = done }
        let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
        uv_timer_init(loop, timer)
        timerHandle = timer
        uv_run(loop, UV_RUN_DEFAULT)
        // Close this loop's own handles, let the close callbacks run, then free them.
        let closable = handles.map { UnsafeMutableRawPointer($0) } + [UnsafeMutableRawPointer(done), UnsafeMutableRawPointer(timer)]
        for handle in closable { uv_close(handle.assumingMemoryBound(to: uv_handle_t.self), nil) }
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        for handle in handles { handle.deallocate() }
        timer.deallocate()
        done.deallocate()
        loop.deallocate()
        logger.info("presignd stopped")
    }

    var timerHandle: UnsafeMutablePointer<uv_timer_t>?

    func signalled() {
        signals += 1
        if signals > 1 {
            logger.warning("second signal: exiting now")
            exit(1)
        }
        logger.info("draining", metadata: ["drain_ms": "\(drainMillis)"])
        onDrain?()
        for worker in workers { worker.requestDrain() }
        uv_timer_start(timerHandle, { timer in
            let waiter = Unmanaged<SignalWaiter>.fromOpaque(timer!.pointee.loop.pointee.data).takeUnretainedValue()
            waiter.logger.warning("drain time over; exiting with requests still open")
            exit(0)
        }, drainMillis, 0)
    }
}
