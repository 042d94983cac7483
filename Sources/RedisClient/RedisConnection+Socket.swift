internal import CUV

#if canImport(Glibc)
import Glibc
#endif

/// The socket side of `RedisConnection`: resolving and connecting, writing commands, reading replies, and dropping
/// the socket. A reply over `RedisReply.Limits` or bytes that are not RESP fail the command waiting for that reply
/// (`.tooLarge`, `.protocolError`) as soon as the header or byte that shows it is read, and the socket is dropped at
/// once: the rest of the reply is never read, so it costs at most the limits plus one read buffer.
extension RedisConnection {
    func connect(_ generation: UInt64) {
        let host = settings.url.host
        if var address = Self.numericAddress(host, port: settings.url.port) {
            open(&address, generation: generation)
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
            guard status == 0, var address = result.flatMap({ RedisConnection.firstAddress($0, port: connection.settings.url.port) }) else {
                let reason = status == 0 ? "no address" : String(cString: uv_strerror(status))
                connection.feed(.connectFailed(generation: generation, reason: "resolving \(connection.settings.url.host): \(reason)"))
                return
            }
            connection.open(&address, generation: generation)
        }, host, nil, &hints)
        if status != 0 {
            Unmanaged<RedisConnection>.fromOpaque(request.pointee.data).release()
            request.deallocate()
            resolving = nil
            feed(.connectFailed(generation: generation, reason: String(cString: uv_strerror(status))))
        }
    }

    private func open(_ address: inout sockaddr_storage, generation: UInt64) {
        let opened = RedisSocket(generation: generation, owner: self)
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { opened.connect(loop: loop, to: $0) }
        }
        guard status == 0 else {
            opened.close()
            feed(.connectFailed(generation: generation, reason: RedisSocket.reason(status)))
            return
        }
        socket = opened
        socketConnected = false
        parser = RESPParser()
        inFlight.removeAll()
        inFlightHead = 0
    }

    /// The connect callback (from the loop, never from inside an action).
    func connectFinished(_ finished: RedisSocket, status: Int32) {
        guard finished === socket else { return }
        guard status == 0 else {
            dropSocket()
            feed(.connectFailed(generation: finished.generation, reason: RedisSocket.reason(status)))
            return
        }
        socketConnected = true
        finished.startReading()
        feed(.connected(generation: finished.generation))
    }

    func write(id: UInt64, arguments: [[UInt8]]) {
        guard let socket, socketConnected else {
            feed(.lost(id: id, .disconnected))
            return
        }
        inFlight.append(id)
        let status = socket.send(RESPWriter.command(arguments))
        if status != 0 { lost(socket, reason: RedisSocket.reason(status)) }
    }

    /// Bytes read from the server: each whole reply answers the oldest command in flight; a failure answers the
    /// command its reply was for and drops the socket.
    func received(_ bytes: UnsafeRawBufferPointer, from reader: RedisSocket) {
        guard reader === socket else { return }
        let (replies, failure) = parser.parse(bytes)
        for reply in replies {
            // A caller's callback may have closed the connection, or a handshake reply failed it.
            guard reader === socket else { return }
            guard let id = nextInFlight() else { return lost(reader, reason: "a reply to no command") }
            feed(.replied(id: id, .success(reply)))
        }
        guard reader === socket else { return }
        if let failure {
            if let id = nextInFlight() { feed(.replied(id: id, .failure(failure.error))) }
            lost(reader, reason: failure.error.description)
        } else if parser.isInsideReply && inFlightHead == inFlight.count {
            lost(reader, reason: "a reply to no command")
        }
    }

    private func nextInFlight() -> UInt64? {
        guard inFlightHead < inFlight.count else { return nil }
        let id = inFlight[inFlightHead]
        inFlightHead += 1
        if inFlightHead == inFlight.count {
            inFlight.removeAll(keepingCapacity: inFlight.capacity <= 1024)
            inFlightHead = 0
        } else if inFlightHead > 1024 && inFlightHead * 2 > inFlight.count {
            inFlight.removeFirst(inFlightHead)
            inFlightHead = 0
        }
        return id
    }

    /// The socket failed or broke the protocol: it is dropped and the core hears of it (once; a socket that is no
    /// longer the current one is ignored).
    func lost(_ failed: RedisSocket, reason: String) {
        guard failed === socket else { return }
        let connected = socketConnected
        dropSocket()
        if connected {
            feed(.disconnected(generation: failed.generation, reason: reason))
        } else {
            feed(.connectFailed(generation: failed.generation, reason: reason))
        }
    }

    /// Closes the current socket (the core dropped it, or it failed); what was in flight is the core's to fail.
    func dropSocket() {
        resolving = nil
        socket?.close()
        socket = nil
        socketConnected = false
        inFlight.removeAll()
        inFlightHead = 0
    }

    static func numericAddress(_ host: String, port: Int) -> sockaddr_storage? {
        var storage = sockaddr_storage()
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_addr(host, Int32(port), $0) } == 0
                || pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_addr(host, Int32(port), $0) } == 0
        }
        return ok ? storage : nil
    }

    /// The first IPv4 or IPv6 address of a getaddrinfo result, with `port`.
    static func firstAddress(_ info: UnsafeMutablePointer<addrinfo>, port: Int) -> sockaddr_storage? {
        var next: UnsafeMutablePointer<addrinfo>? = info
        while let entry = next {
            next = entry.pointee.ai_next
            guard let address = entry.pointee.ai_addr else { continue }
            var storage = sockaddr_storage()
            switch Int32(address.pointee.sa_family) {
            case AF_INET:
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { target in
                        target.pointee = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
                        target.pointee.sin_port = UInt16(port).bigEndian
                    }
                }
            case AF_INET6:
                withUnsafeMutablePointer(to: &storage) { pointer in
                    pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { target in
                        target.pointee = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }
                        target.pointee.sin6_port = UInt16(port).bigEndian
                    }
                }
            default:
                continue
            }
            return storage
        }
        return nil
    }
}
