import Synchronization
internal import CUV

/// A libuv loop run a turn at a time by the thread that drives it, with no worker or server around it: the loop of
/// the in-process client (`InProcessClient`), on which a handler that answers later (S3 through curl or a test's
/// fake, Redis, a thread-pool job, a timer) runs in a test as it would on a worker. Its inbox is open
/// (`EventLoop.post` works) but does not keep the loop alive, so a loop with nothing pending says so (`runOnce`
/// answers false) instead of waiting forever. Drive it from one thread at a time; `close()` it when done: that
/// runs its shutdown hooks, like a worker that stops.
public final class DrivenLoop {
    /// Worker indexes 200..<254 belong to these loops, one per open loop, so per-loop state (`LoopLocal`: the curl
    /// client, connection caches) never mixes two loops that run at once. Servers in tests use low indexes; the
    /// test harness loops 254 and 255.
    private static let free = Mutex<Set<Int>>(Set(200..<254))
    private let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    public let context: LoopContext
    public private(set) var isClosed = false

    public init() {
        let index = Self.free.withLock { free in free.min().map { free.remove($0)! } }
        guard let index else { preconditionFailure("more than 54 DrivenLoops are open at once") }
        uv_loop_init(loop)
        context = LoopContext(index: index, rawLoop: UnsafeMutableRawPointer(loop))
        context.inbox.open(rawLoop: UnsafeMutableRawPointer(loop), keepsLoopAlive: false)
    }

    deinit {
        close()
        loop.deallocate()
    }

    public var eventLoop: EventLoop { EventLoop(context) }

    /// One turn: runs what is due, waiting for the next event while something is pending. False when nothing is
    /// (no active handle or request, nothing posted): whatever is still awaited will not come.
    @discardableResult
    public func runOnce() -> Bool {
        guard !isClosed else { return false }
        let pending = uv_run(loop, UV_RUN_ONCE) != 0
        // Posts that came with nothing else to wake the loop (the inbox does not keep it alive).
        let posted = context.inbox.runQueued()
        return pending || posted
    }

    /// Runs turns until `done()` holds; false when the loop ran dry first.
    @discardableResult
    public func run(until done: () -> Bool) -> Bool {
        while !done() {
            guard runOnce() || done() else { return false }
        }
        return true
    }

    /// Stops the loop as a worker stops: draining, the shutdown hooks (the curl client closes its handles), the
    /// inbox, then every close callback. Idempotent.
    public func close() {
        guard !isClosed else { return }
        context.startDraining()
        context.runShutdownHooks()
        context.inbox.close()
        uv_run(loop, UV_RUN_DEFAULT)
        uv_loop_close(loop)
        isClosed = true
        Self.free.withLock { _ = $0.insert(context.index) }
    }
}
