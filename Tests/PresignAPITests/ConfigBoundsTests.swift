import Foundation
import HTTPServer
import Logging
import PresignAPI
import PresignConfig
import PresignCore
import Testing

/// Every number in the config file has bounds the server can live with. A value outside them (NaN, infinities,
/// zero, negatives, 1e-300, 1e300, Int64.max, integers wider than 64 bits) is a `ConfigError` naming the field;
/// a value inside them loads as written.
struct ConfigBoundsTests {
    static let environment = ["S3_ACCESS_KEY": "AK", "S3_SECRET_KEY": "SK", "HS_SECRET": "hs256-secret-for-tests-0123456789abcdef"]

    /// A numeric field: where it sits, the value the template gives it, its bounds, and how to read it back.
    struct Field: Sendable, CustomStringConvertible {
        let path: String
        let placeholder: String
        let bounds: ClosedRange<Double>
        let read: @Sendable (ServiceConfig) -> Double?
        var description: String { path }
        /// Integer fields name a refused value exactly as written.
        var integer: Bool {
            !["server.header_timeout", "server.idle_timeout", "server.body_timeout", "server.drain_seconds",
              "backends.main.connect_timeout", "backends.main.request_timeout", "backends.main.low_speed_timeout",
              "callers[0].rate_limit.per_second", "callers[0].rate_limit.burst"].contains(path)
        }
    }

    static let fields: [Field] = [
        Field(path: "workers", placeholder: "W", bounds: 1...256) { $0.workers.map(Double.init) },
        Field(path: "server.max_header_bytes", placeholder: "MHB", bounds: 256...1_048_576) { Double($0.server.maxHeaderBytes) },
        Field(path: "server.max_body_bytes", placeholder: "MBB", bounds: 1024...67_108_864) { Double($0.server.maxBodyBytes) },
        Field(path: "server.header_timeout", placeholder: "HT", bounds: 0.001...3600) { $0.server.headerTimeout },
        Field(path: "server.idle_timeout", placeholder: "IT", bounds: 0.001...3600) { $0.server.idleTimeout },
        Field(path: "server.body_timeout", placeholder: "BT", bounds: 0.001...3600) { $0.server.bodyTimeout },
        Field(path: "server.max_connections", placeholder: "MC", bounds: 1...1_000_000) { Double($0.server.maxConnections) },
        Field(path: "server.drain_seconds", placeholder: "DS", bounds: 0...3600) { $0.server.drainSeconds },
        Field(path: "server.log_buffer_bytes", placeholder: "LBB", bounds: 65536...268_435_456) { Double($0.server.logBufferBytes) },
        Field(path: "server.audit_buffer_bytes", placeholder: "ABB", bounds: 65536...268_435_456) { Double($0.server.auditBufferBytes) },
        Field(path: "backends.main.connect_timeout", placeholder: "CT", bounds: 0.001...86_400) { $0.backends["main"]?.connectTimeout },
        Field(path: "backends.main.request_timeout", placeholder: "RT", bounds: 0.001...86_400) { $0.backends["main"]?.requestTimeout },
        Field(path: "backends.main.low_speed_timeout", placeholder: "LT", bounds: 0.001...86_400) { $0.backends["main"]?.lowSpeedTimeout },
        Field(path: "callers[0].rate_limit.per_second", placeholder: "PS", bounds: 0.001...1_000_000) { $0.callers[0].rateLimit?.perSecond },
        Field(path: "callers[0].rate_limit.burst", placeholder: "BU", bounds: 1...1_000_000) { $0.callers[0].rateLimit?.burst },
        Field(path: "callers[0].rules[0].max_expires_in", placeholder: "ME", bounds: 1...31_536_000) { Double($0.callers[0].rules[0].maxExpiresIn) },
        Field(path: "callers[0].rules[0].max_content_length", placeholder: "MCL", bounds: 0...5_497_558_138_880) {
            $0.callers[0].rules[0].maxContentLength.map(Double.init)
        },
        Field(path: "callers[1].auth.jwt.leeway_seconds", placeholder: "LS", bounds: 0...300) { _ in nil },
        Field(path: "cors.max_age", placeholder: "MA", bounds: 0...86_400) { $0.cors.map { Double($0.maxAge) } },
    ]

    static let defaults = [
        "W": "2", "MHB": "16384", "MBB": "1048576", "HT": "10", "IT": "60", "BT": "30", "MC": "20000", "DS": "10",
        "LBB": "1048576", "ABB": "4194304", "CT": "5", "RT": "300", "LT": "30", "PS": "1", "BU": "3", "ME": "60", "MCL": "1000", "LS": "5", "MA": "600",
    ]

    /// The aws-v2 backend lets max_expires_in reach its own bound (SigV4 stops at 604800 s, tested elsewhere).
    static func yaml(_ values: [String: String]) -> String {
        let v = defaults.merging(values) { $1 }
        return """
            workers: \(v["W"]!)
            server: {max_header_bytes: \(v["MHB"]!), max_body_bytes: \(v["MBB"]!), header_timeout: \(v["HT"]!),
                     idle_timeout: \(v["IT"]!), body_timeout: \(v["BT"]!), max_connections: \(v["MC"]!), drain_seconds: \(v["DS"]!),
                     log_buffer_bytes: \(v["LBB"]!), audit_buffer_bytes: \(v["ABB"]!)}
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v2, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY,
                     connect_timeout: \(v["CT"]!), request_timeout: \(v["RT"]!), low_speed_timeout: \(v["LT"]!)}
            callers:
              - name: a
                auth: {api_key_sha256: "\(APIKeyAuth.digestHex("bounds-key"))"}
                rate_limit: {per_second: \(v["PS"]!), burst: \(v["BU"]!)}
                rules: [{operations: [get], bucket: b, max_expires_in: \(v["ME"]!), max_content_length: \(v["MCL"]!)}]
              - name: j
                auth: {jwt: {issuer: "https://i.example.com", audience: a, hs256_secret_env: HS_SECRET, leeway_seconds: \(v["LS"]!)}}
                rules: [{operations: [get], bucket: b, max_expires_in: 60}]
            cors: {allowed_origins: ["*"], max_age: \(v["MA"]!)}
            """
    }

    static func load(_ values: [String: String]) async throws(ConfigError) -> ServiceConfig {
        try await ConfigLoader.load(yaml: yaml(values), secrets: SecretSource(environment: environment))
    }

    static func error(_ values: [String: String]) async -> String? {
        do {
            _ = try await load(values)
            return nil
        } catch {
            return error.description
        }
    }

    static let extremes = [
        ".nan", ".NaN", ".inf", "-.inf", "0", "-0", "-1", "1e-300", "-1e-300", "1e300", "1e308", "9223372036854775807",
        "-9223372036854775808", "99999999999999999999999", "0.5", "1", "3600.5", "86400", "1000001",
    ]

    @Test func theTemplateLoadsAsWritten() async throws {
        let config = try await Self.load([:])
        for field in Self.fields {
            if let value = field.read(config) { #expect(value == Double(Self.defaults[field.placeholder]!)!, "\(field)") }
        }
    }

    @Test(arguments: fields)
    func everyExtremeValueIsRefusedByPathOrLoadsWithinBounds(_ field: Field) async {
        for text in Self.extremes {
            do {
                let config = try await Self.load([field.placeholder: text])
                if let value = field.read(config) {
                    #expect(value.isFinite && field.bounds.contains(value), "\(field) = \(text) loaded as \(value)")
                }
                if let number = Double(text.replacingOccurrences(of: ".inf", with: "inf")) {
                    #expect(field.bounds.contains(number), "\(field) = \(text) loaded although out of bounds")
                }
            } catch {
                #expect(error.path == field.path, "\(field) = \(text): \(error)")
            }
        }
    }

    @Test(arguments: fields)
    func bothBoundsLoadAndJustOutsideIsRefusedWithTheRange(_ field: Field) async throws {
        for bound in [field.bounds.lowerBound, field.bounds.upperBound] {
            let text = bound == bound.rounded() ? String(Int64(bound)) : String(bound)
            let config = try await Self.load([field.placeholder: text])
            if let value = field.read(config) { #expect(value == bound, "\(field)") }
        }
        let range = "\(Self.render(field.bounds.lowerBound)) and \(Self.render(field.bounds.upperBound))"
        let above = field.integer ? String(Int64(field.bounds.upperBound) + 1) : String(field.bounds.upperBound + 1)
        let shownAbove = field.integer ? above : Self.render(Double(above)!)
        #expect(await Self.error([field.placeholder: above]) == "\(field.path): must be between \(range); got \(shownAbove)")
        if !field.integer || field.bounds.lowerBound > 0 {
            let below = field.integer ? String(Int64(field.bounds.lowerBound) - 1) : "-1"
            #expect(await Self.error([field.placeholder: below]) == "\(field.path): must be between \(range); got \(below)")
        }
    }

    static func render(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    @Test func aRateOf1e19PerSecondIsRefused() async {
        #expect(await Self.error(["PS": "1e-19"]) == "callers[0].rate_limit.per_second: must be between 0.001 and 1000000; got 1e-19")
    }

    @Test func notANumberAndInfinityAreRefusedForTimeouts() async {
        #expect(await Self.error(["HT": ".nan"]) == "server.header_timeout: must be between 0.001 and 3600; got nan")
        #expect(await Self.error(["IT": ".inf"]) == "server.idle_timeout: must be between 0.001 and 3600; got inf")
        #expect(await Self.error(["DS": "-.inf"]) == "server.drain_seconds: must be between 0 and 3600; got -inf")
        #expect(await Self.error(["RT": ".nan"]) == "backends.main.request_timeout: must be between 0.001 and 86400; got nan")
        #expect(await Self.error(["BU": "1e300"]) == "callers[0].rate_limit.burst: must be between 1 and 1000000; got 1e+300")
    }

    @Test func integersTooWideForTheirFieldAreRefusedByPath() async {
        #expect(await Self.error(["MC": "99999999999999999999999"]) == "server.max_connections: expected Int")
        #expect(await Self.error(["ME": "9223372036854775807"])
            == "callers[0].rules[0].max_expires_in: must be between 1 and 31536000; got 9223372036854775807")
        #expect(await Self.error(["MCL": "9223372036854775807"])
            == "callers[0].rules[0].max_content_length: must be between 0 and 5497558138880; got 9223372036854775807")
    }

    @Test func theSlowestRateServesAndAsksForATimeItCanSay() async throws {
        let config = try await ConfigLoader.load(
            yaml: Self.yaml(["PS": "0.001", "BU": "1"]).replacingOccurrences(of: "dialect: aws-v2", with: "dialect: aws-v4"),
            secrets: SecretSource(environment: Self.environment))
        let service = PresignService(config: config, workers: 1, logger: .init(label: "t"), audit: .init(label: "a"))
        func ask() -> HTTPResponse {
            let body = #"{"operation":"get","bucket":"b","key":"k"}"#
            let head = HTTPRequestHead(
                method: "POST", target: "/v1/presign", versionMajor: 1, versionMinor: 1,
                headers: [("Authorization", "Bearer bounds-key"), ("Content-Type", "application/json")], keepAlive: true,
                expectsContinue: false, contentLength: Int64(body.utf8.count), chunked: false)
            return service.respond(HTTPRequest(head: head, body: Array(body.utf8), requestId: "r", clientAddress: "192.0.2.1", worker: 0))
        }
        #expect(ask().status.code == 200)
        let limited = ask()
        #expect(limited.status.code == 429)
        #expect(limited.headers.first { $0.name == "Retry-After" }?.value == "1000")
    }
}
