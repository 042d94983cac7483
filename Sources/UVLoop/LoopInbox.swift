internal import CUV

/// Work another thread hands to one worker loop: closures queued under a lock and run on the loop's thread, woken
/// by a `uv_async_t`. The worker opens it before its loop runs and closes it when it stops; a closure posted after
/// that is dropped (`post` answers false), since nothing it could answer is still open.
///
/// The async handle carries the inbox as `Unmanaged` (retained while the handle is open, released in its close
/// callback); its callback captures nothing.
public final class LoopInbox: Sendable {
    private struct State {
        var queue: [@Sendable () -> Void] = []
        var open = false
    }

    /// Behind a pthread mutex (`Locked`: ThreadSanitizer sees it; every worker posts here).
    private let state = Locked(State())
    /// The libuv handle: initialised and closed on the loop thread, sent to from any thread under `state`'s lock
    /// while `open` (uv_async_send is thread-safe; the lock keeps it from racing the close).
    private nonisolated(unsafe) let handle = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)

    public init() {}

    deinit { handle.deallocate() }

    /// On the loop's thread, before it runs. Without `keepsLoopAlive` the open inbox alone does not keep `uv_run`
    /// going (a `DrivenLoop`, which runs what was posted itself when the loop has nothing else to do).
    public func open(rawLoop: UnsafeMutableRawPointer, keepsLoopAlive: Bool = true) {
        let loop = rawLoop.assumingMemoryBound(to: uv_loop_t.self)
        uv_async_init(loop, handle) { async in
            Unmanaged<LoopInbox>.fromOpaque(async!.pointee.data).takeUnretainedValue().runQueued()
        }
        if !keepsLoopAlive { uv_unref(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) }
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        state.withLock { $0.open = true }
    }

    /// On the loop's thread, when the worker stops: later posts are dropped, queued ones run first.
    public func close() {
        let wasOpen = state.withLock { state in
            defer { state.open = false }
            return state.open
        }
        guard wasOpen else { return }
        runQueued()
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { closed in
            Unmanaged<LoopInbox>.fromOpaque(closed!.pointee.data).release()
        }
    }

    /// Any thread: runs `body` on the loop's thread soon. False (and `body` dropped) when the loop is not open.
    @discardableResult
    public func post(_ body: @escaping @Sendable () -> Void) -> Bool {
        state.withLock { state in
            guard state.open else { return false }
            state.queue.append(body)
            uv_async_send(handle)
            return true
        }
    }

    /// On the loop's thread: runs what was posted, now; whether there was anything.
    @discardableResult
    public func runQueued() -> Bool {
        let queued = state.withLock { state in
            defer { state.queue.removeAll() }
            return state.queue
        }
        for body in queued { body() }
        return !queued.isEmpty
    }
}
