internal import CHiredis
internal import CUV

#if canImport(Glibc)
import Glibc
#endif

/// The hiredis side of `RedisConnection`: opening, writing to and freeing contexts, and hiredis's callbacks.
///
/// hiredis 0.14 facts this relies on:
/// - `redisAsyncFree` outside a callback runs every pending reply callback with a NULL reply, then the disconnect
///   callback (only if the context had connected), then frees; inside a reply callback it only marks the context and
///   frees it after that callback returns. Inside the connect callback it frees at once, and hiredis then goes on
///   using the context: hence `connectedToReport`.
/// - `redisAsyncDisconnect` waits for pending replies, so it cannot drop a stalled server; timeouts use the free.
/// - A failed connect calls the connect callback with an error, then frees the context without a disconnect callback.
/// - `redisAsyncConnect` resolves names with a blocking getaddrinfo, so names are resolved here with uv_getaddrinfo.
extension RedisConnection {
    func connect(_ generation: UInt64) {
        let host = settings.url.host
        if Self.isNumericAddress(host) {
            open(ip: host, generation: generation)
            return
        }
        resolving = generation
        let request = UnsafeMutablePointer<uv_getaddrinfo_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(self).toOpaque()  // released in the callback
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        let status = uv_getaddrinfo(loop, request, { request, status, result in
            let connection = Unmanaged<RedisConnection>.fromOpaque(request!.pointee.data).takeRetainedValue()
            request!.deallocate()
            defer { if let result { uv_freeaddrinfo(result) } }
            guard let generation = connection.resolving else { return }
            connection.resolving = nil
            guard status == 0, let ip = result.flatMap(RedisConnection.numericName) else {
                let reason = status == 0 ? "no address" : String(cString: uv_strerror(status))
                connection.feed(.connectFailed(generation: generation, reason: "resolving \(connection.settings.url.host): \(reason)"))
                return
            }
            connection.open(ip: ip, generation: generation)
        }, host, nil, &hints)
        if status != 0 {
            Unmanaged<RedisConnection>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            resolving = nil
            feed(.connectFailed(generation: generation, reason: String(cString: uv_strerror(status))))
        }
    }

    private func open(ip: String, generation: UInt64) {
        guard let ac = redisAsyncConnect(ip, Int32(settings.url.port)) else {
            feed(.connectFailed(generation: generation, reason: "out of memory"))
            return
        }
        if ac.pointee.err != 0 {
            let reason = String(cString: ac.pointee.errstr)
            redisAsyncFree(ac)
            feed(.connectFailed(generation: generation, reason: reason))
            return
        }
        guard presignd_redis_libuv_attach(ac, UnsafeMutableRawPointer(loop)) == REDIS_OK else {
            redisAsyncFree(ac)
            feed(.connectFailed(generation: generation, reason: "cannot watch the socket"))
            return
        }
        ac.pointee.data = Unmanaged.passRetained(self).toOpaque()
        context = ac
        contextGeneration = generation
        contextConnected = false
        // Set after attaching: hiredis starts watching for writability (the connect) when the callback is set.
        redisAsyncSetConnectCallback(ac) { ac, status in
            guard let ac, let data = ac.pointee.data else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            connection.connectFinished(UnsafeMutablePointer(mutating: ac), ok: status == REDIS_OK)
        }
        redisAsyncSetDisconnectCallback(ac) { ac, status in
            guard let ac, let data = ac.pointee.data else { return }
            let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
            if connection.context == UnsafeMutablePointer(mutating: ac) {
                connection.context = nil
                connection.feed(.disconnected(generation: connection.contextGeneration, reason: RedisConnection.reason(ac)))
            }
            Unmanaged<RedisConnection>.fromOpaque(data).release()  // retained in open()
        }
    }

    private func connectFinished(_ ac: UnsafeMutablePointer<redisAsyncContext>, ok: Bool) {
        guard context == ac else { return }
        if ok {
            contextConnected = true
            connectedToReport = contextGeneration
            rearm()  // at once: the timer tells the core
            return
        }
        // hiredis frees the context when this returns, without a disconnect callback.
        context = nil
        let data = ac.pointee.data!
        feed(.connectFailed(generation: contextGeneration, reason: Self.reason(ac)))
        Unmanaged<RedisConnection>.fromOpaque(data).release()  // retained in open()
    }

    func write(id: UInt64, arguments: [[UInt8]]) {
        guard let ac = context, contextConnected else {
            feed(.lost(id: id, .disconnected))
            return
        }
        // hiredis copies the command into its output buffer before returning, so the bytes need not outlive the call.
        var joined: [UInt8] = []
        joined.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(joined.count)
            joined += argument
        }
        joined.append(0)  // never empty, so the base address exists
        let lengths = arguments.map(\.count)
        let status = joined.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    redisAsyncCommandArgv(ac, { ac, reply, privdata in
                        guard let ac, let data = ac.pointee.data else { return }
                        let connection = Unmanaged<RedisConnection>.fromOpaque(data).takeUnretainedValue()
                        let id = UInt64(UInt(bitPattern: privdata))
                        if let reply {
                            let value = RedisReply.converting(reply.assumingMemoryBound(to: redisReply.self))
                            connection.feed(.replied(id: id, value))
                        } else {
                            let error: RedisError = ac.pointee.err == REDIS_ERR_PROTOCOL
                                ? .protocolError(RedisConnection.reason(ac)) : .disconnected
                            connection.feed(.lost(id: id, error))
                        }
                    }, UnsafeMutableRawPointer(bitPattern: UInt(id)), Int32(arguments.count), argv.baseAddress, argvlen.baseAddress)
                }
            }
        }
        if status != REDIS_OK { feed(.lost(id: id, .disconnected)) }
    }

    /// Frees the current context (the core dropped it). Pending callbacks get NULL replies, which the core ignores.
    func dropContext() {
        resolving = nil
        connectedToReport = nil
        guard let ac = context else { return }
        context = nil
        let connected = contextConnected
        let data = ac.pointee.data
        redisAsyncFree(ac)
        // A context that never connected gets no disconnect callback: its reference is released here.
        if !connected, let data { Unmanaged<RedisConnection>.fromOpaque(data).release() }
    }

    static func reason(_ ac: UnsafePointer<redisAsyncContext>) -> String {
        guard let text = ac.pointee.errstr else { return "closed" }
        let reason = String(cString: text)
        return reason.isEmpty ? "closed" : reason
    }

    static func isNumericAddress(_ host: String) -> Bool {
        var buffer = in6_addr()
        return inet_pton(AF_INET, host, &buffer) == 1 || inet_pton(AF_INET6, host, &buffer) == 1
    }

    /// The first address of a getaddrinfo result as text.
    static func numericName(_ info: UnsafeMutablePointer<addrinfo>) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        guard let address = info.pointee.ai_addr else { return nil }
        let status: Int32
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            status = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_name($0, &buffer, buffer.count) }
        case AF_INET6:
            status = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_name($0, &buffer, buffer.count) }
        default:
            return nil
        }
        return status == 0 ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }
}
