internal import CUV

/// Watches a directory with inotify (`uv_fs_event`): `changed` runs on the loop with the name of the entry that
/// changed. A directory rather than the file, because Kubernetes updates a mounted secret by swapping a symlink
/// (`..data`), which a watch on the old file never sees. `self` is retained by the handle from `start` until its
/// close callback.
public final class FileWatch {
    private let handle = UnsafeMutablePointer<uv_fs_event_t>.allocate(capacity: 1)
    private var changed: ((String?) -> Void)?
    public private(set) var isClosed = false

    private init(changed: @escaping (String?) -> Void) { self.changed = changed }

    deinit { handle.deallocate() }

    /// Starts watching `directory` on `loop` (call on that loop's thread).
    public static func start(directory: String, on loop: EventLoop, _ changed: @escaping (String?) -> Void) throws(UVError) -> FileWatch {
        let watch = FileWatch(changed: changed)
        try UVError.check(uv_fs_event_init(loop.rawLoop.assumingMemoryBound(to: uv_loop_t.self), watch.handle), "uv_fs_event_init")
        watch.handle.pointee.data = Unmanaged.passRetained(watch).toOpaque()
        let rc = uv_fs_event_start(watch.handle, { handle, name, _, _ in
            let watch = Unmanaged<FileWatch>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            watch.changed?(name.map { String(cString: $0) })
        }, directory, 0)
        if rc < 0 {
            watch.close()
            throw UVError(call: "uv_fs_event_start \(directory)", code: rc)
        }
        return watch
    }

    /// Stops watching; released once libuv has let go of the handle. Idempotent.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        changed = nil
        uv_close(UnsafeMutableRawPointer(handle).assumingMemoryBound(to: uv_handle_t.self)) { closed in
            Unmanaged<FileWatch>.fromOpaque(closed!.pointee.data).release()
        }
    }
}
