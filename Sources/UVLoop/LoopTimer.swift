internal import CUV

/// A libuv timer on one worker loop, for glue that wakes itself up (the credential refresher). Touched only on
/// that loop's thread. `self` travels as `Unmanaged` in the handle's data: retained when the handle opens,
/// released in its close callback, so the timer lives until `close()` has finished.
public final class LoopTimer {
    private let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private var fire: (() -> Void)?
    public private(set) var isClosed = false

    /// Opens the timer on `loop` (call on that loop's thread). `fire` runs on the loop each time it goes off.
    public init(on loop: EventLoop, _ fire: @escaping () -> Void) {
        self.fire = fire
        uv_timer_init(loop.rawLoop.assumingMemoryBound(to: uv_loop_t.self), handle)
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    deinit { handle.deallocate() }

    /// Goes off after `afterMillis`, then every `repeatMillis` (0: once). Restarting replaces the schedule.
    public func start(afterMillis: UInt64, repeatMillis: UInt64 = 0) {
        guard !isClosed else { return }
        uv_timer_start(handle, { timer in
            Unmanaged<LoopTimer>.fromOpaque(timer!.pointee.data).takeUnretainedValue().fire?()
        }, afterMillis, repeatMillis)
    }

    public func stop() {
        guard !isClosed else { return }
        uv_timer_stop(handle)
    }

    /// Closes the handle; the timer is released once libuv has let go of it. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        fire = nil
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { closed in
            Unmanaged<LoopTimer>.fromOpaque(closed!.pointee.data).release()
        }
    }
}
