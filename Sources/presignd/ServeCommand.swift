import ArgumentParser
import Foundation
import HTTPServer
import LineLog
import Logging
import AdminProxy
import PresignAPI
import PresignConfig
import JSONKit
import UVLoop

/// `presignd serve`: the HTTP server with the presign API. Flags override the config file; with no --config the
/// embedded dev profile runs.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP server.")

    enum Switch: String, ExpressibleByArgument { case on, off }

    @Option(parsing: .unconditional, help: "YAML configuration (see deploy/presignd.example.yaml). Without it: the dev profile.")
    var config: String?

    @Option(parsing: .unconditional, help: "Address to listen on, host:port ([::1]:8080 for IPv6). Default 127.0.0.1:8080.")
    var listen: String?

    @Option(name: .customLong("admin-listen"), parsing: .unconditional, help: "Admin listener host:port, or 'off'.")
    var adminListen: String?

    @Option(parsing: .unconditional, help: "Worker threads, each with its own event loop (default: number of cores).")
    var workers: Int?

    @Option(name: .customLong("access-log"), parsing: .unconditional, help: "One JSON line per request on stdout: on or off.")
    var accessLog: Switch?

    @Option(name: .customLong("drain-seconds"), parsing: .unconditional, help: "Seconds SIGTERM waits for in-flight requests (10).")
    var drainSeconds: Double?

    @Option(name: .customLong("max-header-bytes"), parsing: .unconditional, help: "Largest request head, 431 above (16384).")
    var maxHeaderBytes: Int?

    @Option(name: .customLong("max-body-bytes"), parsing: .unconditional, help: "Largest request body, 413 above (1048576).")
    var maxBodyBytes: Int64?

    @Option(name: .customLong("header-timeout"), parsing: .unconditional, help: "Seconds to receive a request head, 408 after (10).")
    var headerTimeout: Double?

    @Option(name: .customLong("idle-timeout"), parsing: .unconditional, help: "Seconds an idle keep-alive connection stays open (60).")
    var idleTimeout: Double?

    @Option(name: .customLong("body-timeout"), parsing: .unconditional, help: "Seconds a request body may stall, 408 after (30).")
    var bodyTimeout: Double?

    @Option(name: .customLong("max-connections"), parsing: .unconditional, help: "Connections per worker before it stops accepting (20000).")
    var maxConnections: Int?

    @Flag(name: .customLong("stream-probe"), help: .hidden)
    var streamProbe = false

    /// Flags keep the config file's bounds (the file's own values are checked when it loads), before anything runs.
    func validate() throws {
        typealias B = ConfigBounds
        do throws(ConfigError) {
            if let v = maxHeaderBytes { _ = try B.check(v, B.maxHeaderBytes, path: "--max-header-bytes") }
            if let v = maxBodyBytes { _ = try B.check(v, B.maxBodyBytes, path: "--max-body-bytes") }
            if let v = headerTimeout { _ = try B.check(v, B.serverTimeout, path: "--header-timeout") }
            if let v = idleTimeout { _ = try B.check(v, B.serverTimeout, path: "--idle-timeout") }
            if let v = bodyTimeout { _ = try B.check(v, B.serverTimeout, path: "--body-timeout") }
            if let v = maxConnections { _ = try B.check(v, B.maxConnections, path: "--max-connections") }
            if let v = drainSeconds { _ = try B.check(v, B.drainSeconds, path: "--drain-seconds") }
            if let v = workers { _ = try B.check(v, B.workers, path: "--workers") }
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        // Every log, access and audit line goes through stdout's bounded per-worker queues and its own writer
        // thread: a reader that stops reading costs dropped (counted) lines, never a stalled worker loop.
        let output = LineOutput()
        output.flushAtExit()
        LoggingSystem.bootstrap { label in LineLogHandler(label: label, output: output) }
        let logger = Logger(label: "presignd")
        let audit = Logger(label: "presignd.audit")
        let service: ServiceConfig
        if let config {
            do {
                service = try ConfigLoader.loadBlocking(file: config, secrets: .process)
            } catch {
                throw ValidationError("config \(config): \(error)")
            }
        } else {
            service = ConfigLoader.devProfileBlocking(secrets: .process)
            if let path = service.links?.sqlitePath {
                // The dev profile keeps its links under .cache/ of the working directory.
                try? FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            }
            logger.warning("""
                DEV PROFILE: no --config given. Listening on loopback only, API key 'dev-key', admin token \
                'dev-admin', backend http://127.0.0.1:8333. Never run this profile in production.
                """)
        }
        if let problem = PresignService.prepareLinkStore(service) {
            throw ValidationError("links: \(problem)")
        }
        var configuration = ServerConfiguration()
        let settings = service.server
        output.setBounds(.init(access: settings.logBufferBytes, audit: settings.auditBufferBytes, log: settings.logBufferBytes))
        let headerBytes = maxHeaderBytes ?? settings.maxHeaderBytes
        let bodyBytes = maxBodyBytes ?? settings.maxBodyBytes
        let header = headerTimeout ?? settings.headerTimeout
        let idle = idleTimeout ?? settings.idleTimeout
        let body = bodyTimeout ?? settings.bodyTimeout
        let connections = maxConnections ?? settings.maxConnections
        let drain = drainSeconds ?? settings.drainSeconds
        configuration.limits = .init(maxHeaderBytes: headerBytes, maxBodyBytes: bodyBytes)
        configuration.timeouts = .init(
            headerMillis: UInt64(header * 1000), idleMillis: UInt64(idle * 1000), bodyMillis: UInt64(body * 1000))
        configuration.maxConnectionsPerWorker = connections
        configuration.listen = listen ?? service.listen
        let admin = adminListen ?? service.adminListen
        configuration.adminListen = admin == "off" ? nil : admin
        configuration.workers = min(workers ?? service.workers ?? ProcessInfo.processInfo.activeProcessorCount, ConfigBounds.workers.upperBound)
        configuration.drainMillis = UInt64(drain * 1000)
        configuration.accessLog = accessLog.map { $0 == .on } ?? service.accessLog

        let (server, api) = Self.makeServer(
            service: service, configuration: configuration, logger: logger, audit: audit, streamProbe: streamProbe,
            logOutput: output)
        let workerCount = configuration.workers
        let listenText = configuration.listen
        let configPath = config
        try server.run(
            onListening: { ports in
                var metadata: Logger.Metadata = ["address": "\(listenText)", "port": "\(ports[0])", "workers": "\(workerCount)"]
                if ports.count > 1 { metadata["admin_port"] = "\(ports[1])" }
                logger.info("listening", metadata: metadata)
                SystemdNotify.send("READY=1\nSTATUS=serving")
            },
            onDrain: { SystemdNotify.send("STOPPING=1") },
            onReload: {
                guard let configPath else {
                    logger.warning("SIGHUP ignored: the dev profile has no file to re-read")
                    return
                }
                SystemdNotify.send("RELOADING=1")
                defer { SystemdNotify.send("READY=1") }
                do {
                    let fresh = try ConfigLoader.loadBlocking(file: configPath, secrets: .process)
                    if let problem = PresignService.prepareLinkStore(fresh) {
                        logger.error("config reload failed; keeping the previous config", metadata: ["file": "\(configPath)", "error": "links: \(problem)"])
                        return
                    }
                    api.replace(fresh)
                    logger.info("config reloaded", metadata: ["file": "\(configPath)"])
                } catch {
                    logger.error("config reload failed; keeping the previous config", metadata: ["file": "\(configPath)", "error": "\(error)"])
                }
            },
            onLoopStart: { [api] loop in
                output.bind(worker: loop.index)
                api.startBackgroundWork(on: loop)
                api.startCredentialRefresh(on: loop)
            })
    }
}

extension ServeCommand {
    /// The server and the presign service as `serve` runs them: the API routes, the dev profile's demo page, the
    /// admin proxy's routes, and the late-answer count wired to the metrics. `presignd routes` lists the same.
    static func makeServer(
        service: ServiceConfig, configuration: ServerConfiguration, logger: Logger, audit: Logger, streamProbe: Bool,
        logOutput: LineOutput? = nil
    ) -> (HTTPServer, PresignService) {
        var configuration = configuration
        let api = PresignService(
            config: service, workers: configuration.workers, logger: logger, audit: audit, logOutput: logOutput)
        configuration.lateAnswerDropped = { [metrics = api.metrics] worker, route in
            metrics.lateAnswerDropped(worker: worker, route: route)
        }
        // The one endpoint table: the API's rows, the dev profile's demo page, the stream probe, the admin proxy's
        // rows; the server adds the probes.
        var rows = api.endpoints()
        if streamProbe { rows.append(StreamProbeRoute.endpoint(logger: logger)) }
        if service.isDevProfile {
            rows.append(Endpoint(.get, "/demo", access: .anonymous) { _, _ in
                HTTPResponse(status: .ok, headers: [("Content-Type", "text/html; charset=utf-8")], body: DemoPage.html)
            })
        }
        rows += AdminProxy(generation: { [api] in api.store.generation(worker: $0).serving }, audit: audit, logOutput: logOutput).endpoints()
        let server = HTTPServer(
            configuration: configuration, endpoints: EndpointTable(rows), logger: logger,
            accessLogger: Logger(label: "presignd.access"))
        return (server, api)
    }
}

/// `presignd routes [--config FILE]`: every row of the endpoint table `serve` would answer, one JSON object per line.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "List the routes serve answers.")

    @Option(help: "The YAML configuration file (the dev profile without it).")
    var config: String?

    @Flag(help: "Include the --stream-probe test route.")
    var streamProbe = false

    func run() throws {
        let service: ServiceConfig
        do {
            service = try config.map { try ConfigLoader.loadBlocking(file: $0, secrets: .placeholders()) }
                ?? ConfigLoader.devProfileBlocking(secrets: .process)
        } catch {
            throw ValidationError("config: \(error)")
        }
        let quiet = Logger(label: "presignd.routes", factory: { _ in SwiftLogNoOpLogHandler() })
        var configuration = ServerConfiguration()
        configuration.workers = 1
        let (server, _) = ServeCommand.makeServer(
            service: service, configuration: configuration, logger: quiet, audit: quiet, streamProbe: streamProbe)
        for row in server.endpoints.rows {
            var line = JSONWriter(capacity: 160)
            line.beginObject()
            line.string("listener", row.listener.rawValue)
            line.string("method", row.method.name)
            line.string("path", row.path.text)
            switch row.access {
            case .anonymous: line.string("access", "anonymous")
            case .caller(let cost): line.integer("caller_cost", cost)
            }
            line.string("metric", row.metricLabel)
            if row.streamsBody { line.bool("streams_body", true) }
            line.endObject()
            print(line.text)
        }
    }
}

/// `presignd check-config FILE`: parse and check a config (secrets included) and say what is wrong, or OK.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check-config", abstract: "Check a configuration file.")

    @Argument(help: "The YAML configuration file.")
    var file: String

    @Flag(help: "Check the shape only: every secret (by environment or file) reads as a placeholder.")
    var placeholderSecrets = false

    func run() throws {
        let config: ServiceConfig
        do {
            config = try ConfigLoader.loadBlocking(file: file, secrets: placeholderSecrets ? .placeholders() : .process)
        } catch {
            throw ValidationError("\(file): \(error)")
        }
        let rules = config.callers.reduce(0) { $0 + $1.rules.count }
        print("\(file): OK (\(config.backends.count) backend(s), \(config.callers.count) caller(s), \(rules) rule(s))")
    }
}
