internal import CUV

/// One uv_write: the request, the arrays and the connection stay alive until the callback. libuv reads the
/// arrays' own storage (held here, untouched until the callback), so the bytes are not copied on the way out; the
/// uv_buf_t descriptors themselves are copied by uv_write, so they live on the stack.
///
/// A request is reused: after its callback it goes back to its worker's spares (`Worker.takeWrite`), with the
/// buffer a response was serialized into (`fill`), so a keep-alive response costs no allocation for its request,
/// its uv_write_t or its bytes (3 allocations a response before).
final class WriteRequest {
    let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
    private(set) var single: [UInt8] = []
    private(set) var parts: [[UInt8]] = []
    private(set) var connection: Connection?
    private(set) var flushed: (() -> Void)?
    private(set) var count = 0
    /// `single` is this request's own buffer (filled by `fill`), kept for the next use; not an array the caller
    /// still shares, which would be copied by clearing it in place.
    private var ownsBuffer = false
    /// A buffer above this is let go when the request is recycled: spares hold at most this much each.
    static let keptCapacity = 16 * 1024

    init() {}

    func use(single: [UInt8], connection: Connection, flushed: (() -> Void)?) {
        self.single = single
        ownsBuffer = false
        self.connection = connection
        self.flushed = flushed
        count = single.count
    }

    func use(parts: [[UInt8]], connection: Connection, flushed: (() -> Void)?) {
        single = []
        ownsBuffer = false
        self.parts = parts
        self.connection = connection
        self.flushed = flushed
        count = parts.reduce(0) { $0 + $1.count }
    }

    /// Writes into this request's own buffer (empty on entry).
    func fill(connection: Connection, _ write: (inout [UInt8]) -> Void) {
        if !ownsBuffer { single = [] }
        ownsBuffer = true
        write(&single)
        self.connection = connection
        flushed = nil
        count = single.count
    }

    /// Back to a spare: the connection and callback are let go, an owned buffer is emptied and kept (if small).
    func reset() {
        if ownsBuffer && single.capacity <= Self.keptCapacity {
            single.removeAll(keepingCapacity: true)
        } else {
            single = []
            ownsBuffer = false
        }
        parts = []
        connection = nil
        flushed = nil
        count = 0
    }

    static func buffer(_ bytes: [UInt8]) -> uv_buf_t {
        guard !bytes.isEmpty else { return uv_buf_init(nil, 0) }
        let base = bytes.withUnsafeBufferPointer { UnsafeMutableRawPointer(mutating: $0.baseAddress!) }
        return uv_buf_init(base.assumingMemoryBound(to: CChar.self), UInt32(bytes.count))
    }

    func submit(to stream: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
        let retained = Unmanaged.passRetained(self)
        request.pointee.data = retained.toOpaque()
        let callback: uv_write_cb = { request, status in
            let unmanaged = Unmanaged<WriteRequest>.fromOpaque(request!.pointee.data)
            let write = unmanaged.takeUnretainedValue()
            if let connection = write.connection {
                connection.writeCompleted(status: status, count: write.count)
                write.flushed?()
                connection.worker.recycle(write)
            }
            unmanaged.release()
        }
        let rc: Int32
        if parts.isEmpty {
            var one = Self.buffer(single)
            rc = uv_write(request, stream, &one, 1, callback)
        } else {
            var buffers = parts.map(Self.buffer)
            rc = uv_write(request, stream, &buffers, UInt32(buffers.count), callback)
        }
        if rc != 0 { retained.release() }
        return rc
    }

    deinit { request.deallocate() }
}
