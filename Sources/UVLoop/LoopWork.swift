internal import CUV

/// Blocking work (reading a small file) moved off a worker loop onto libuv's thread pool; the answer comes back on
/// the loop thread. The job travels as `Unmanaged` in the request's data: retained when queued, released in the
/// after-callback, which libuv always runs on the loop (also when the loop is closing).
public enum LoopWork {
    final class Job {
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        let work: @Sendable () -> Void
        let after: () -> Void

        init(work: @escaping @Sendable () -> Void, after: @escaping () -> Void) {
            self.work = work
            self.after = after
        }

        deinit { request.deallocate() }
    }

    /// A result written by the pool thread before libuv hands the request back to the loop (libuv orders the two).
    final class Slot<Value>: @unchecked Sendable { var value: Value? }

    /// Runs `work` on the pool, then `done` with its result on `loop`'s thread. Call on that loop's thread.
    public static func run<Value>(on loop: EventLoop, _ work: @escaping @Sendable () -> Value, then done: @escaping (Value) -> Void) {
        let slot = Slot<Value>()
        let job = Job(work: { slot.value = work() }, after: { done(slot.value!) })
        job.request.pointee.data = Unmanaged.passRetained(job).toOpaque()
        let rc = uv_queue_work(loop.rawLoop.assumingMemoryBound(to: uv_loop_t.self), job.request, { request in
            Unmanaged<Job>.fromOpaque(request!.pointee.data).takeUnretainedValue().work()
        }, { request, _ in
            let job = Unmanaged<Job>.fromOpaque(request!.pointee.data).takeRetainedValue()
            job.after()
        })
        if rc < 0 {
            // Not queued: run it here rather than lose the answer (uv_queue_work only fails on a null callback).
            Unmanaged<Job>.fromOpaque(job.request.pointee.data).release()
            done(work())
        }
    }
}
