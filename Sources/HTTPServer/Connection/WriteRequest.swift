internal import CUV

/// One uv_write: the request, the arrays and the connection stay alive until the callback. libuv reads the
/// arrays' own storage (immutable `let`s held here), so the bytes are not copied on the way out; the uv_buf_t
/// descriptors themselves are copied by uv_write, so they live on the stack.
final class WriteRequest {
    let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
    let single: [UInt8]
    let parts: [[UInt8]]
    let connection: Connection
    let flushed: (() -> Void)?
    let count: Int

    init(single: [UInt8], connection: Connection, flushed: (() -> Void)?) {
        self.single = single
        parts = []
        self.connection = connection
        self.flushed = flushed
        count = single.count
    }

    init(parts: [[UInt8]], connection: Connection, flushed: (() -> Void)?) {
        single = []
        self.parts = parts
        self.connection = connection
        self.flushed = flushed
        count = parts.reduce(0) { $0 + $1.count }
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
            write.connection.writeCompleted(status: status, count: write.count)
            write.flushed?()
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
