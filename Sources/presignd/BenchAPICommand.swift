import ArgumentParser
import Foundation
import HTTPServer
import Logging
import PresignAPI
import PresignConfig
import ShareLinks

/// `presignd bench-api`: nanoseconds per POST /v1/presign through the API in process (auth, policy, JSON, signing,
/// metrics), with no sockets; it tells the handler's cost apart from the server's. Not a test.
struct BenchAPICommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-api", abstract: "Measure the presign handler (ns per request).", shouldDisplay: false)

    @Option(parsing: .unconditional, help: "Config file (default deploy/bench/presignd-bench.yaml).")
    var config: String = "deploy/bench/presignd-bench.yaml"

    @Option(parsing: .unconditional, help: "Requests per round.")
    var iterations: Int = 100_000

    enum Route: String, ExpressibleByArgument, CaseIterable {
        case presign
        /// GET /l/{id}: lookup, policy, the use counted (a write), signing, the 302.
        case linkGet = "link-get"
        /// HEAD /l/{id}: the same without the write.
        case linkHead = "link-head"
        /// The SQLite store alone: one indexed read, or one use (a write transaction).
        case storeFetch = "store-fetch"
        case storeUse = "store-use"
    }

    @Option(parsing: .unconditional, help: "What to measure: \(Route.allCases.map(\.rawValue).joined(separator: ", ")).")
    var route: Route = .presign

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
        func post(_ target: String, _ json: String) -> HTTPRequest {
            let body = Array(json.utf8)
            let head = HTTPRequestHead(
                method: "POST", target: target,
                headers: [("Host", "x"), ("Content-Type", "application/json"), ("Authorization", "Bearer bench-key"),
                          ("Content-Length", String(body.count))],
                contentLength: Int64(body.count))
            return HTTPRequest(head: head, body: body, requestId: "bench", clientAddress: "127.0.0.1")
        }
        var body: () -> Int
        switch route {
        case .presign:
            let request = post("/v1/presign", #"{"operation":"put","bucket":"uploads","key":"users/42/photo.png","expires_in":600,"content_type":"image/png"}"#)
            body = { service.respond(request).body.count }
        case .linkGet, .linkHead, .storeFetch, .storeUse:
            guard let links = loaded.links, let path = links.sqlitePath else { throw ValidationError("--route \(route.rawValue) needs links: with sqlite_path in the config") }
            let made = service.respond(post("/v1/links", #"{"bucket":"uploads","key":"users/42/photo.png"}"#))
            guard made.status.code == 201, let text = String(bytes: made.body, encoding: .utf8),
                let range = text.range(of: #""id":""#), let id = LinkID(text[range.upperBound...].prefix(32))
            else { throw ValidationError("could not make a link: \(String(decoding: made.body, as: UTF8.self))") }
            let request = HTTPRequest(
                head: HTTPRequestHead(method: route == .linkHead ? .head : .get, target: "/l/" + id.text, headers: [("Host", "x")]),
                body: [], requestId: "bench", clientAddress: "127.0.0.1")
            let store = SQLiteLinkStore(settings: .init(path: path, busyTimeoutMillis: links.busyTimeoutMillis))
            let now = Int64(Date().timeIntervalSince1970)
            switch route {
            case .storeFetch: body = { var n = 0; store.fetch(id.digest, worker: 0, loop: nil) { n = (try? $0.get())??.key.utf8.count ?? -1 }; return n }
            case .storeUse: body = { var n = 0; store.use(id.digest, now: now, worker: 0, loop: nil) { if case .success(.used(let u)) = $0 { n = Int(u) } }; return n }
            default: body = { service.respond(request).headers.count }
            }
        }
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000_000)
        var bytes = 0
        for _ in 0..<5 {
            let elapsed = clock.measure {
                for _ in 0..<iterations { bytes &+= body() }
            }
            best = min(best, elapsed)
        }
        let nanos = Double(best.components.seconds) * 1e9 + Double(best.components.attoseconds) / 1e9
        print("{\"route\": \"\(route.rawValue)\", \"ns_per_request\": \(Int(nanos / Double(iterations))), \"iterations\": \(iterations), \"bytes\": \(bytes)}")
    }
}
