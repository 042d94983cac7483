import Synchronization
internal import CUV

/// The worker loop a request runs on, for glue that adds its own libuv handles (the curl client). Opaque: the
/// pointer is a `uv_loop_t *` for modules that import the libuv module themselves.
public struct EventLoop: @unchecked Sendable, Equatable {
    public let rawLoop: UnsafeMutableRawPointer
    /// The worker's index (0..<workers).
    public let index: Int
    unowned let worker: Worker

    public static func == (lhs: EventLoop, rhs: EventLoop) -> Bool { lhs.rawLoop == rhs.rawLoop }

    /// Runs `body` when the worker stops (after the drain), on the loop thread, so handles can be closed and the
    /// loop can end. Call it on the loop thread.
    public func onShutdown(_ body: @escaping () -> Void) { worker.shutdownHooks.append(body) }

    /// Whether the worker is draining (no new work should start).
    public var isDraining: Bool { worker.draining }
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

extension ResponseContext {
    public var eventLoop: EventLoop {
        EventLoop(rawLoop: UnsafeMutableRawPointer(connection.worker.loop), index: connection.worker.index, worker: connection.worker)
    }
}
