import HTTPServer

/// Feeds arbitrary bytes through the request-parsing path the server uses (decoder + connection core),
/// the way a hostile client could: split at arbitrary points, with clock ticks in between.
/// It traps when an invariant breaks, which is what the fuzzer and the regression tests look for.
public enum HTTPFuzzHarness {
    /// Small limits so that the 431/413 paths are reachable from short inputs.
    public static let limits = HTTPRequestDecoder.Limits(maxHeaderBytes: 512, maxBodyBytes: 2048)

    public static func run(_ input: UnsafeRawBufferPointer) {
        guard let first = input.first else { return }
        // The first byte chooses how the rest is cut into reads: 1...16 bytes each, or all at once.
        let step = first == 0 ? max(input.count - 1, 1) : Int(first & 0x0F) + 1
        let payload = UnsafeRawBufferPointer(rebasing: input[1...])
        // Paths under /s stream their bodies (as the admin proxy's uploads do), so both body paths are fuzzed.
        let core = HTTPConnectionCore(
            limits: limits, timeouts: .init(headerMillis: 50, idleMillis: 80, bodyMillis: 60), now: 0,
            streaming: { _, path in path.hasPrefix("/s") }, streamingBodyLimit: 8192)
        var streamed = 0
        var streaming = false
        var now: UInt64 = 0
        var closed = false
        var offset = 0

        func apply(_ actions: [HTTPConnectionCore.Action]) {
            var pending = actions
            while !pending.isEmpty {
                let action = pending.removeFirst()
                precondition(!closed, "action \(action) after the connection closed")
                switch action {
                case .dispatch(let summary, let body):
                    precondition(body.count <= Int(limits.maxBodyBytes), "body over the limit reached a handler")
                    precondition(!summary.method.name.isEmpty, "dispatch without a method")
                    precondition(summary.target.utf8.first == UInt8(ascii: "/") || summary.target.utf8.first == UInt8(ascii: "*")
                        || summary.target.contains("://") || summary.method == .other("CONNECT"), "odd target \(summary.target)")
                    let keepAlive = core.keepAlive
                    now += 1
                    pending += core.responded(keepAlive: keepAlive, now: now)
                case .reject(let error):
                    precondition((400...599).contains(error.status.code), "reject with status \(error.status.code)")
                    closed = true
                case .close:
                    closed = true
                case .dispatchStreaming:
                    precondition(!streaming, "a streamed request started inside another")
                    streaming = true
                    streamed = 0
                case .bodyChunk(let bytes):
                    precondition(streaming, "body chunk outside a streamed request")
                    streamed += bytes.count
                    precondition(streamed <= 8192, "streamed body over its limit")
                case .bodyEnd:
                    precondition(streaming, "body end outside a streamed request")
                    streaming = false
                    let keepAlive = core.keepAlive
                    now += 1
                    pending += core.responded(keepAlive: keepAlive, now: now)
                case .sendContinue, .pauseReading, .resumeReading:
                    break
                }
            }
        }

        while offset < payload.count && !closed {
            let end = min(offset + step, payload.count)
            now += 7
            apply(core.received(UnsafeRawBufferPointer(rebasing: payload[offset..<end]), now: now))
            offset = end
            if !closed { apply(core.tick(now: now)) }
        }
        if !closed {
            apply(core.drain())
            now += 1_000
            apply(core.tick(now: now))
        }
        // Feeding a closed connection is a no-op.
        if closed { precondition(core.received(payload, now: now + 1).isEmpty, "bytes accepted after close") }
    }
}
