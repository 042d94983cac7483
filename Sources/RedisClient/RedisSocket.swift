internal import CUV

#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to a Redis server on a worker's libuv loop: every byte to the server goes through `send`, and
/// every byte from it arrives in `RedisConnection.received` from the read callback here, one read buffer at a time
/// (so a layer between the socket and RESP, such as TLS, has one place to go).
///
/// The socket travels as `Unmanaged` in the handle's `data`, retained when the handle opens and released in its
/// close callback; a connect or write request keeps it retained until its own callback. After `close`, nothing is
/// reported to the connection (`owner` is nil).
final class RedisSocket {
    /// Reads land here, 64 KiB at most, and are parsed before the callback returns.
    static let readBufferBytes = 65_536

    let generation: UInt64
    private(set) var owner: RedisConnection?
    private let tcp = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
    private let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: readBufferBytes, alignment: 16)
    private var opened = false

    init(generation: UInt64, owner: RedisConnection) {
        self.generation = generation
        self.owner = owner
    }

    deinit {
        tcp.deallocate()
        readBuffer.deallocate()
    }

    private var stream: UnsafeMutablePointer<uv_stream_t> { UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_stream_t.self) }
    private var handle: UnsafeMutablePointer<uv_handle_t> { UnsafeMutableRawPointer(tcp).assumingMemoryBound(to: uv_handle_t.self) }

    private static func from(_ pointer: UnsafeMutableRawPointer?) -> RedisSocket {
        Unmanaged<RedisSocket>.fromOpaque(pointer!).takeUnretainedValue()
    }

    /// Starts connecting to `address`; 0, or a libuv error (then `close` it). `RedisConnection.connectFinished`
    /// hears how it went.
    func connect(loop: UnsafeMutablePointer<uv_loop_t>, to address: UnsafePointer<sockaddr>) -> Int32 {
        let initialized = uv_tcp_init(loop, tcp)
        guard initialized == 0 else { return initialized }
        tcp.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in close's callback
        opened = true
        uv_tcp_nodelay(tcp, 1)
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the callback
        let status = uv_tcp_connect(request, tcp, address) { request, status in
            let socket = Unmanaged<RedisSocket>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            socket.owner?.connectFinished(socket, status: status)
        }
        if status != 0 {
            Unmanaged<RedisSocket>.fromOpaque(request.pointee.data).release()
            request.deallocate()
        }
        return status
    }

    func startReading() {
        uv_read_start(
            stream,
            { handle, _, buffer in
                buffer!.pointee.base = RedisSocket.from(handle!.pointee.data).readBuffer.assumingMemoryBound(to: CChar.self)
                buffer!.pointee.len = RedisSocket.readBufferBytes
            },
            { stream, count, buffer in
                let socket = RedisSocket.from(stream!.pointee.data)
                if count < 0 {
                    socket.owner?.lost(socket, reason: RedisSocket.reason(Int32(count)))
                    return
                }
                guard count > 0 else { return }
                socket.owner?.received(UnsafeRawBufferPointer(start: buffer!.pointee.base, count: count), from: socket)
            })
    }

    /// Queues `bytes` for the server; 0, or a libuv error. A write that fails later is reported as a lost connection.
    func send(_ bytes: [UInt8]) -> Int32 {
        let write = Write(bytes: bytes, socket: self)
        return write.submit(to: stream)
    }

    /// Closes the socket; idempotent. Nothing more is reported to the owner.
    func close() {
        owner = nil
        guard opened else { return }
        opened = false
        uv_close(handle) { handle in
            Unmanaged<RedisSocket>.fromOpaque(handle!.pointee.data).release()  // retained in connect
        }
    }

    /// A libuv status in words: the C library's text for an errno ("Connection refused"), libuv's for the rest.
    static func reason(_ status: Int32) -> String {
        if status == Int32(UV_EOF.rawValue) { return "Server closed the connection" }
        if status < 0 && status > -4000 { return String(cString: strerror(-status)) }
        return String(cString: uv_strerror(status))
    }

    /// One uv_write: the request, the bytes and the socket live until its callback.
    private final class Write {
        let request = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        let bytes: [UInt8]
        let socket: RedisSocket

        init(bytes: [UInt8], socket: RedisSocket) {
            self.bytes = bytes
            self.socket = socket
        }

        deinit { request.deallocate() }

        func submit(to stream: UnsafeMutablePointer<uv_stream_t>) -> Int32 {
            let retained = Unmanaged.passRetained(self)
            request.pointee.data = retained.toOpaque()
            let status = bytes.withUnsafeBufferPointer { pointer in
                var buffer = uv_buf_init(
                    UnsafeMutableRawPointer(mutating: pointer.baseAddress!).assumingMemoryBound(to: CChar.self),
                    UInt32(pointer.count))
                return uv_write(request, stream, &buffer, 1) { request, status in
                    let write = Unmanaged<Write>.fromOpaque(request!.pointee.data).takeRetainedValue()
                    if status < 0 { write.socket.owner?.lost(write.socket, reason: RedisSocket.reason(status)) }
                }
            }
            if status != 0 { retained.release() }
            return status
        }
    }
}
