import ArgumentParser
import Foundation
import HTTPServer
import Logging

/// `presignd serve`: the HTTP server.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server.")

    enum Switch: String, ExpressibleByArgument { case on, off }

    @Option(help: "Address to listen on, host:port ([::1]:8080 for IPv6).")
    var listen: String = "127.0.0.1:8080"

    @Option(help: "Worker threads, each with its own event loop (default: number of cores).")
    var workers: Int?

    @Option(name: .customLong("access-log"), help: "One JSON line per request on stdout: on or off.")
    var accessLog: Switch = .on

    @Option(name: .customLong("drain-seconds"), help: "Seconds SIGTERM waits for in-flight requests.")
    var drainSeconds: Double = 10

    @Option(name: .customLong("max-header-bytes"), help: "Largest request head (431 above).")
    var maxHeaderBytes: Int = 16 * 1024

    @Option(name: .customLong("max-body-bytes"), help: "Largest request body (413 above).")
    var maxBodyBytes: Int64 = 1024 * 1024

    @Option(name: .customLong("header-timeout"), help: "Seconds to receive a request head (408).")
    var headerTimeout: Double = 10

    @Option(name: .customLong("idle-timeout"), help: "Seconds an idle keep-alive connection stays open.")
    var idleTimeout: Double = 60

    @Option(name: .customLong("body-timeout"), help: "Seconds a request body may stall (408).")
    var bodyTimeout: Double = 30

    @Option(name: .customLong("max-connections"), help: "Connections per worker before it stops accepting.")
    var maxConnections: Int = 20_000

    @Flag(name: .customLong("stream-probe"), help: .hidden)
    var streamProbe = false

    func run() throws {
        var configuration = ServerConfiguration()
        guard maxHeaderBytes >= 256, maxBodyBytes >= 0, headerTimeout > 0, idleTimeout > 0, bodyTimeout > 0,
            maxConnections > 0
        else { throw ValidationError("limits and timeouts must be positive (max-header-bytes at least 256)") }
        configuration.limits = .init(maxHeaderBytes: maxHeaderBytes, maxBodyBytes: maxBodyBytes)
        configuration.timeouts = .init(
            headerMillis: UInt64(headerTimeout * 1000), idleMillis: UInt64(idleTimeout * 1000),
            bodyMillis: UInt64(bodyTimeout * 1000))
        configuration.maxConnectionsPerWorker = maxConnections
        configuration.listen = listen
        configuration.workers = workers ?? ProcessInfo.processInfo.activeProcessorCount
        guard configuration.workers >= 1, configuration.workers <= 256 else {
            throw ValidationError("--workers must be between 1 and 256")
        }
        guard drainSeconds >= 0 else { throw ValidationError("--drain-seconds must not be negative") }
        configuration.drainMillis = UInt64(drainSeconds * 1000)
        configuration.accessLog = accessLog == .on
        LoggingSystem.bootstrap { label in JSONLineLogHandler(label: label) }
        let logger = Logger(label: "presignd")
        var router = Router()
        if streamProbe { StreamProbeRoute.add(to: &router, logger: logger) }
        let server = HTTPServer(configuration: configuration, router: router, logger: logger)
        let workerCount = configuration.workers
        try server.run { ports in
            logger.info("listening", metadata: ["address": "\(listen)", "port": "\(ports[0])", "workers": "\(workerCount)"])
        }
    }
}

/// Writes each log record as one line on stdout: access-log records are already JSON; others are wrapped.
struct JSONLineLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let text = "\(event.message)"
        var line: String
        if text.hasPrefix("{") {
            line = text
        } else {
            var object: [String: String] = ["level": "\(event.level)", "message": text]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
                object[key] = "\(value)"
            }
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            line = String(decoding: data, as: UTF8.self)
        }
        line += "\n"
        FileHandle.standardOutput.write(Data(line.utf8))
    }
}
