import HTTPServer
import Logging

/// `GET /debug/stream/{bytes}`: a route that exists only with `presignd serve --stream-probe` (hidden), for the
/// socket test of the streaming response API. It produces a deterministic body (byte i = (31·i + 7) mod 256) in
/// 64 KiB chunks, and only while fewer than `highWater` bytes are queued for the socket; a chunk's `flushed`
/// callback resumes it. The peak queue it saw goes to the log, which the test reads after the server stops.
enum StreamProbeRoute {
    static let chunkBytes = 64 * 1024
    static let highWater = 256 * 1024

    static func endpoint(logger: Logger) -> Endpoint {
        Endpoint(.get, "/debug/stream/{bytes}", access: .anonymous) { request, context in
            guard let total = request.parameters["bytes"].flatMap(Int.init), total >= 0, total <= 1 << 30 else {
                return .error(.badRequest, code: "InvalidArgument", message: "bytes must be 0...1073741824")
            }
            let producer = Producer(context: context, total: total, logger: logger)
            context.startStream(status: .ok, headers: [("Content-Type", "application/octet-stream")])
            producer.pump()
            return nil
        }
    }

    final class Producer {
        let context: ResponseContext
        let total: Int
        let logger: Logger
        var sent = 0
        var peakQueued = 0
        var waiting = false

        init(context: ResponseContext, total: Int, logger: Logger) {
            self.context = context
            self.total = total
            self.logger = logger
        }

        func pump() {
            waiting = false
            while sent < total && context.isOpen {
                if context.queuedBytes >= StreamProbeRoute.highWater {
                    // Resumed by the flushed callback of the chunk written last.
                    waiting = true
                    return
                }
                let count = min(StreamProbeRoute.chunkBytes, total - sent)
                var chunk = [UInt8](repeating: 0, count: count)
                for i in 0..<count { chunk[i] = UInt8(truncatingIfNeeded: (sent + i) &* 31 &+ 7) }
                sent += count
                context.write(chunk) { [self] in if waiting { pump() } }
                peakQueued = max(peakQueued, context.queuedBytes)
            }
            guard context.isOpen else { return }
            if sent == total {
                context.finish()
                logger.info("stream probe done", metadata: ["bytes": "\(sent)", "peak_queued": "\(peakQueued)"])
            }
        }
    }
}
