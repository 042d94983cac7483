import Foundation
import Logging
import Synchronization
import UVLoop
internal import CUV

/// One thread, one libuv loop, its listeners and connections. Nothing here is touched by another thread except
/// `requestDrain` (a uv_async_send) and `finished`.
final class Worker: @unchecked Sendable {
    let server: HTTPServer
    let index: Int
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    private var listeners: [(handle: UnsafeMutablePointer<uv_tcp_t>, admin: Bool)] = []
    private var pendingAccept: [UnsafeMutablePointer<uv_stream_t>] = []
    var connections: [ObjectIdentifier: Connection] = [:]
    private let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private let drainAsync = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
    let readBuffer = UnsafeMutableRawPointer.allocate(byteCount: 65_536, alignment: 16)
    private(set) var dateLine: [UInt8] = []
    private var dateSecond: Int = -1
    /// Index, raw loop, shutdown hooks and the draining flag, as other glue sees them (`EventLoop`).
    let context: LoopContext
    var draining: Bool { context.isDraining }
    let finished = Atomic<Bool>(false)
    var onFinished: UnsafeMutablePointer<uv_async_t>?
    /// Runs on this worker's thread once its loop is set up, before it serves (`HTTPServer.run(onLoopStart:)`).
    var onStart: (@Sendable (EventLoop) -> Void)?
    private var requestCounter: UInt64 = 0
    private let requestPrefixBytes: [UInt8]
    private static let hexDigits = Array("0123456789abcdef".utf8)

    init(server: HTTPServer, index: Int) {
        self.server = server
        self.index = index
        requestPrefixBytes = Array((String(UInt32.random(in: 0...UInt32.max), radix: 16) + "-\(index)-").utf8)
        uv_loop_init(loop)
        context = LoopContext(index: index, rawLoop: UnsafeMutableRawPointer(loop))
        loop.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        refreshDate()
    }

    deinit {
        for (handle, _) in listeners { handle.deallocate() }
        timer.deallocate()
        drainAsync.deallocate()
        readBuffer.deallocate()
        loop.deallocate()
    }

    static func from(_ loop: UnsafeMutablePointer<uv_loop_t>?) -> Worker {
        Unmanaged<Worker>.fromOpaque(loop!.pointee.data).takeUnretainedValue()
    }

    /// Binds the listeners on this worker's loop; returns the bound ports (public, then admin).
    func bind(_ address: ListenAddress, admin: ListenAddress?) throws(ServerError) -> [Int] {
        var ports = [try listen(address, admin: false)]
        if let admin { ports.append(try listen(admin, admin: true)) }
        return ports
    }

    private func check(_ rc: Int32, _ what: String) throws(ServerError) {
        do throws(UVError) { try UVError.check(rc, what) } catch { throw ServerError(error.description) }
    }

    private func listen(_ address: ListenAddress, admin: Bool) throws(ServerError) -> Int {
        var storage = sockaddr_storage()
        let isV6 = address.host.contains(":")
        let rc = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                isV6
                    ? uv_ip6_addr(address.host, Int32(address.port), v6)
                    : v6.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                        uv_ip4_addr(address.host, Int32(address.port), $0)
                    }
            }
        }
        try check(rc, "invalid address \(address.host)")
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        try check(uv_tcp_init_ex(loop, handle, UInt32(isV6 ? AF_INET6 : AF_INET)), "uv_tcp_init_ex")
        try check(presignd_uv_tcp_reuseport(handle), "SO_REUSEPORT")
        let bindRC = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_bind(handle, $0, 0) }
        }
        try check(bindRC, "bind \(address.host):\(address.port)")
        handle.withMemoryRebound(to: uv_stream_t.self, capacity: 1) { stream in
            stream.pointee.data = admin ? UnsafeMutableRawPointer(bitPattern: 1) : nil
        }
        let listenRC = handle.withMemoryRebound(to: uv_stream_t.self, capacity: 1) { stream in
            uv_listen(stream, 1024) { server, status in
                guard status == 0, let server else { return }
                Worker.from(server.pointee.loop).accept(server)
            }
        }
        try check(listenRC, "listen \(address.host):\(address.port)")
        var name = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &name) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getsockname(handle, $0, &length) }
        }
        let port = withUnsafePointer(to: &name) { pointer in
            isV6
                ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
        listeners.append((handle, admin))
        return port
    }

    func runLoop() {
        uv_timer_init(loop, timer)
        uv_timer_start(timer, { timer in Worker.from(timer!.pointee.loop).tick() }, 250, 250)
        uv_async_init(loop, drainAsync) { async in Worker.from(async!.pointee.loop).startDrain() }
        context.inbox.open(rawLoop: UnsafeMutableRawPointer(loop))
        onStart?(EventLoop(context))
        uv_run(loop, UV_RUN_DEFAULT)
        // Every handle is closed by now (stop() and the connections' close callbacks), so the loop can go.
        uv_loop_close(loop)
        finished.store(true, ordering: .releasing)
        if let onFinished { uv_async_send(onFinished) }
    }

    func requestDrain() { uv_async_send(drainAsync) }

    private func accept(_ server: UnsafeMutablePointer<uv_stream_t>) {
        guard !draining else { return }
        if connections.count >= self.server.configuration.maxConnectionsPerWorker {
            // Not accepting makes libuv stop polling this listener until uv_accept is called again.
            if !pendingAccept.contains(server) { pendingAccept.append(server) }
            return
        }
        let admin = server.pointee.data != nil
        // The loop's cached clock may be a long callback old: a connection timed from it could be closed by the
        // next tick before its first byte is read.
        uv_update_time(loop)
        let connection = Connection(worker: self, admin: admin, now: uv_now(loop))
        guard connection.open(from: server) else { return }
        connections[ObjectIdentifier(connection)] = connection
    }

    func connectionClosed(_ connection: Connection) {
        connections[ObjectIdentifier(connection)] = nil
        if !pendingAccept.isEmpty && connections.count < server.configuration.maxConnectionsPerWorker {
            let waiting = pendingAccept
            pendingAccept.removeAll()
            for listener in waiting { accept(listener) }
        }
        if draining && connections.isEmpty { stop() }
    }

    private func tick() {
        refreshDate()
        let now = uv_now(loop)
        // The table's storage is shared for the walk, not copied: a close only ends in `connectionClosed` from a
        // later close callback, so the table does not change meanwhile.
        for connection in connections.values { connection.tick(now: now) }
    }

    private func refreshDate() {
        var now = time(nil)
        guard Int(now) != dateSecond else { return }
        dateSecond = Int(now)
        var parts = tm()
        gmtime_r(&now, &parts)
        var text = [CChar](repeating: 0, count: 64)
        let length = strftime(&text, 64, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &parts)
        dateLine = text.prefix(length).map { UInt8(bitPattern: $0) }
    }

    /// Write requests whose callbacks have run, for reuse (`WriteRequest`); at most `maxSpareWrites`.
    private var spareWrites: [WriteRequest] = []
    static let maxSpareWrites = 64

    func takeWrite() -> WriteRequest { spareWrites.popLast() ?? WriteRequest() }

    func recycle(_ write: WriteRequest) {
        write.reset()
        if spareWrites.count < Self.maxSpareWrites { spareWrites.append(write) }
    }

    func nextRequestId() -> String {
        requestCounter += 1
        return Self.requestId(prefix: requestPrefixBytes, counter: requestCounter)
    }

    /// `prefix` then `counter` in lower-case hex, spelled into a stack buffer: `prefix + String(counter, radix: 16)`
    /// cost ~700 instructions a request.
    static func requestId(prefix: [UInt8], counter: UInt64) -> String {
        let digits = max(UInt64.bitWidth / 4 - counter.leadingZeroBitCount / 4, 1)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: prefix.count + 16) { buffer in
            var end = 0
            for byte in prefix {
                buffer[end] = byte
                end += 1
            }
            var value = counter
            for position in stride(from: end + digits - 1, through: end, by: -1) {
                buffer[position] = hexDigits[Int(value & 15)]
                value >>= 4
            }
            return String(decoding: UnsafeBufferPointer(rebasing: buffer[..<(end + digits)]), as: UTF8.self)
        }
    }

    private func startDrain() {
        context.startDraining()
        for (handle, _) in listeners {
            handle.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        }
        pendingAccept.removeAll()
        for connection in Array(connections.values) { connection.drain() }
        if connections.isEmpty { stop() }
    }

    private func stop() {
        // Other glue (the curl client) closes its handles, so the loop can end.
        context.runShutdownHooks()
        context.inbox.close()
        uv_close(UnsafeMutableRawPointer(timer).assumingMemoryBound(to: uv_handle_t.self), nil)
        uv_close(UnsafeMutableRawPointer(drainAsync).assumingMemoryBound(to: uv_handle_t.self), nil)
    }

    func log(_ line: String) {
        server.accessLogger.info("\(line)")
    }
}
