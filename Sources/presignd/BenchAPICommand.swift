import ArgumentParser
import Foundation
import HTTPServer
import Logging
import PresignAPI
import PresignConfig

/// `presignd bench-api`: nanoseconds per POST /v1/presign through the API in process (auth, policy, JSON, signing,
/// metrics), with no sockets; it tells the handler's cost apart from the server's. Not a test.
struct BenchAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-api", abstract: "Measure the presign handler (ns per request).", shouldDisplay: false)

    @Option(parsing: .unconditional, help: "Config file (default deploy/bench/presignd-bench.yaml).")
    var config: String = "deploy/bench/presignd-bench.yaml"

    @Option(parsing: .unconditional, help: "Requests per round.")
    var iterations: Int = 100_000

    func validate() throws {
        guard (1...100_000_000).contains(iterations) else {
            throw ValidationError("--iterations: must be between 1 and 100000000; got \(iterations)")
        }
    }

    func run() throws {
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_S3_ACCESS"] = environment["BENCH_S3_ACCESS"] ?? "AKIDBENCH"
        environment["BENCH_S3_SECRET"] = environment["BENCH_S3_SECRET"] ?? "bench-secret-0123456789"
        let loaded = try ConfigLoader.loadBlocking(file: config, secrets: SecretSource(environment: environment))
        let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = PresignService(config: loaded, workers: 1, logger: quiet, audit: quiet)
        let body = Array(#"{"operation":"put","bucket":"uploads","key":"users/42/photo.png","expires_in":600,"content_type":"image/png"}"#.utf8)
        let head = HTTPRequestHead(
            method: "POST", target: "/v1/presign",
            headers: [("Host", "x"), ("Content-Type", "application/json"), ("Authorization", "Bearer bench-key"),
                      ("Content-Length", String(body.count))],
            contentLength: Int64(body.count))
        let request = HTTPRequest(head: head, body: body, requestId: "bench", clientAddress: "127.0.0.1")
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000_000)
        var bytes = 0
        for _ in 0..<5 {
            let elapsed = clock.measure {
                for _ in 0..<iterations { bytes &+= service.respond(request).body.count }
            }
            best = min(best, elapsed)
        }
        let nanos = Double(best.components.seconds) * 1e9 + Double(best.components.attoseconds) / 1e9
        print("{\"ns_per_request\": \(Int(nanos / Double(iterations))), \"iterations\": \(iterations), \"bytes\": \(bytes)}")
    }
}
