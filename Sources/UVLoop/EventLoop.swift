internal import CUV

/// What a worker loop offers to glue that adds its own libuv handles (the curl client): the raw loop, the
/// worker's index, shutdown hooks and the draining flag. The worker owns it; it is touched only on the loop's
/// thread.
public final class LoopContext {
    public let index: Int
    /// A `uv_loop_t *`, for the modules that import the libuv module themselves.
    public let rawLoop: UnsafeMutableRawPointer
    private var shutdownHooks: [() -> Void] = []
    public internal(set) var isDraining = false
    /// Closures other threads hand to this loop (opened and closed by the worker).
    public let inbox = LoopInbox()

    public init(index: Int, rawLoop: UnsafeMutableRawPointer) {
        self.index = index
        self.rawLoop = rawLoop
    }

    /// Marks the loop as draining (no new work should start).
    public func startDraining() { isDraining = true }

    /// Runs every shutdown hook once, in the order added, and forgets them.
    public func runShutdownHooks() {
        let hooks = shutdownHooks
        shutdownHooks.removeAll()
        for hook in hooks { hook() }
    }

    fileprivate func addShutdownHook(_ body: @escaping () -> Void) { shutdownHooks.append(body) }
}

/// The worker loop a request runs on. Opaque to modules that do not import libuv; equal when the loop is.
public struct EventLoop: @unchecked Sendable, Equatable {
    let context: LoopContext

    public init(_ context: LoopContext) { self.context = context }

    public var rawLoop: UnsafeMutableRawPointer { context.rawLoop }
    /// The worker's index (0..<workers).
    public var index: Int { context.index }

    public static func == (lhs: EventLoop, rhs: EventLoop) -> Bool { lhs.rawLoop == rhs.rawLoop }

    /// Runs `body` when the worker stops (after the drain), on the loop thread, so handles can be closed and the
    /// loop can end. Call it on the loop thread.
    public func onShutdown(_ body: @escaping () -> Void) { context.addShutdownHook(body) }

    /// Whether the worker is draining (no new work should start).
    public var isDraining: Bool { context.isDraining }

    /// Any thread: runs `body` on this loop's thread soon; false (and dropped) when the loop has stopped.
    @discardableResult
    public func post(_ body: @escaping @Sendable () -> Void) -> Bool { context.inbox.post(body) }
}

/// One value per worker loop, created on first use by that loop and touched only by it. Slots are boxes in an
/// array that is never written after `init` (see `PerWorker`), so loops never race on the array itself.
public final class LoopLocal<Value: AnyObject>: @unchecked Sendable {
    /// Worker indexes are below this (the config allows at most 256 workers).
    public static var capacity: Int { 256 }
    private let slots = PerWorker<Value?>(count: LoopLocal.capacity) { _ in nil }

    public init() {}

    public func get(_ loop: EventLoop, make: () -> Value) -> Value {
        precondition(loop.index < Self.capacity, "worker index \(loop.index) over \(Self.capacity)")
        if let value = slots[loop.index] { return value }
        let value = make()
        slots[loop.index] = value
        return value
    }

    /// Forgets this loop's value (its loop is shutting down).
    public func remove(_ loop: EventLoop) { slots[loop.index] = nil }
}
