import AdminProxy
import Foundation
import HTTPServer
import Logging
import PresignAPI
import PresignConfig
import Testing

/// The one endpoint table: OPTIONS answers, `Allow` headers and metric labels come from its rows, and openapi.yaml
/// documents exactly its rows. The expected values are written out: they are what presignd answered when the
/// OPTIONS lists and labels were kept by hand, so generating them changed none.
struct EndpointTableTests {
    static func table() async throws -> EndpointTable {
        let yaml = """
            backends:
              main: {endpoint: "http://127.0.0.1:9", dialect: aws-v4, access_key_env: A, secret_key_env: S}
            callers: [{name: n, auth: {api_key_sha256: "\(String(repeating: "0", count: 64))"}, rules: [{operations: [get], bucket: b, max_expires_in: 60}]}]
            cors: {allowed_origins: ["https://app.example.com"], max_age: 600}
            admin: {token_sha256: ["\(String(repeating: "1", count: 64))"]}
            """
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: ["A": "AK", "S": "SK"]))
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = PresignService(config: config, workers: 1, logger: logger, audit: logger)
        let admin = AdminProxy(generation: { [service] in service.store.generation(worker: $0).serving }, audit: logger)
        return EndpointTable(service.endpoints() + admin.endpoints())
    }

    static func ask(_ table: EndpointTable, on listener: Endpoint.Listener = .public, _ method: HTTPMethod, _ path: String,
                    _ headers: [(name: String, value: String)] = []) -> HTTPResponse {
        let head = HTTPRequestHead(method: method, target: path, headers: [("Host", "x")] + headers)
        return InProcessClient(router: table.router(for: listener)).respond(HTTPRequest(head: head, body: [], requestId: "r"))
    }

    static func lines(_ response: HTTPResponse) -> [String] { response.headers.map { "\($0.name): \($0.value)" } }

    /// Every path with a caller row, and the methods its OPTIONS answer names.
    static let preflighted: [(path: String, allow: String)] = [
        ("/v1/presign", "POST, OPTIONS"), ("/v1/presign/batch", "POST, OPTIONS"), ("/v1/uploads", "POST, OPTIONS"),
        ("/v1/uploads/u1/parts", "GET, POST, OPTIONS"), ("/v1/uploads/u1/complete", "POST, OPTIONS"),
        ("/v1/uploads/u1", "DELETE, OPTIONS"), ("/v1/links", "POST, OPTIONS"), ("/v1/links/abc", "GET, DELETE, OPTIONS"),
    ]

    @Test func everyCallerPathAnswersOptionsFromTheTable() async throws {
        let table = try await Self.table()
        for (path, allow) in Self.preflighted {
            let plain = Self.ask(table, .options, path)
            #expect(plain.status.code == 204, "\(path)")
            #expect(Self.lines(plain) == ["Allow: \(allow)"], "\(path)")
            let first = String(allow.prefix { $0 != "," })
            let preflight = Self.ask(table, .options, path, [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", first)])
            #expect(preflight.status.code == 204, "\(path)")
            #expect(Self.lines(preflight) == [
                "Access-Control-Allow-Origin: https://app.example.com", "Vary: Origin", "Access-Control-Allow-Methods: \(allow)",
                "Access-Control-Allow-Headers: Authorization, Content-Type, X-Request-Id", "Access-Control-Max-Age: 600",
            ], "\(path)")
            let use = allow.replacingOccurrences(of: ", OPTIONS", with: "")
            let wrong = Self.ask(table, .options, path, [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "PATCH")])
            #expect(wrong.status.code == 403)
            #expect(String(decoding: wrong.body, as: UTF8.self)
                == #"{"error":{"code":"CORSMethodDenied","message":"method PATCH is not allowed; use \#(use)"}}"#, "\(path)")
        }
    }

    /// A method a path does not take is 405 with the path's rows in table order (GET answers HEAD too, OPTIONS last).
    @Test(arguments: [
        ("/v1/presign", "POST, OPTIONS"), ("/v1/presign/batch", "POST, OPTIONS"), ("/v1/uploads", "POST, OPTIONS"),
        ("/v1/uploads/u1/parts", "POST, GET, HEAD, OPTIONS"), ("/v1/uploads/u1/complete", "POST, OPTIONS"),
        ("/v1/uploads/u1", "DELETE, OPTIONS"), ("/v1/links", "POST, OPTIONS"), ("/v1/links/abc", "GET, HEAD, DELETE, OPTIONS"),
        ("/l/abc", "GET, HEAD"), ("/metrics", "GET, HEAD"), ("/openapi.yaml", "GET, HEAD"), ("/healthz", "GET, HEAD"),
        ("/readyz", "GET, HEAD"),
    ])
    func the405AllowListsThePathsRows(_ path: String, _ allow: String) async throws {
        let table = try await Self.table()
        for method: HTTPMethod in [.patch, .other("QUERY")] {
            let response = Self.ask(table, method, path)
            #expect(response.status.code == 405)
            #expect(Self.lines(response) == ["Content-Type: application/json", "Allow: \(allow)"])
            #expect(String(decoding: response.body, as: UTF8.self)
                == #"{"error":{"code":"MethodNotAllowed","message":"\#(method.name) is not allowed here"}}"#)
        }
    }

    @Test func adminPathsAnswer405FromTheirRowsAndHaveNoOptions() async throws {
        let table = try await Self.table()
        let response = Self.ask(table, on: .admin, .options, "/admin/v1/buckets/b/objects/k/x")
        #expect(Self.lines(response) == ["Content-Type: application/json", "Allow: GET, HEAD, PUT, DELETE"])
        #expect(Self.lines(Self.ask(table, on: .admin, .post, "/admin/v1/buckets")) == ["Content-Type: application/json", "Allow: GET, HEAD"])
        #expect(!table.rows.contains { $0.listener == .admin && $0.method == .options })
    }

    /// Every row has a metric label; the API's are pinned (dashboards query them), OPTIONS rows labelled like the
    /// first row of their path.
    @Test func everyRowHasAMetricLabel() async throws {
        let table = try await Self.table()
        #expect(table.rows.allSatisfy { !$0.metricLabel.isEmpty })
        let labels = table.rows.filter { $0.listener == .public }.map { "\($0.method) \($0.path) \($0.metricLabel)" }
        #expect(labels == [
            "POST /v1/presign /v1/presign", "OPTIONS /v1/presign /v1/presign",
            "POST /v1/presign/batch /v1/presign/batch", "OPTIONS /v1/presign/batch /v1/presign/batch",
            "POST /v1/uploads /v1/uploads", "OPTIONS /v1/uploads /v1/uploads",
            "POST /v1/uploads/{upload}/parts /v1/uploads/parts", "GET /v1/uploads/{upload}/parts /v1/uploads/parts",
            "OPTIONS /v1/uploads/{upload}/parts /v1/uploads/parts",
            "POST /v1/uploads/{upload}/complete /v1/uploads/complete", "OPTIONS /v1/uploads/{upload}/complete /v1/uploads/complete",
            "DELETE /v1/uploads/{upload} /v1/uploads", "OPTIONS /v1/uploads/{upload} /v1/uploads",
            "POST /v1/links /v1/links", "OPTIONS /v1/links /v1/links",
            "GET /v1/links/{id} /v1/links/{id}", "DELETE /v1/links/{id} /v1/links/{id}", "OPTIONS /v1/links/{id} /v1/links/{id}",
            "GET /l/{id} /l/{id}", "GET /metrics /metrics", "GET /openapi.yaml /openapi.yaml",
            "GET /healthz /healthz", "GET /readyz /readyz",
        ])
    }

    /// openapi.yaml's operations are the table's rows (admin ones included, `{key...}` written `{key}`); a `head`
    /// it documents on a path with a GET row is that row's HEAD.
    @Test func openAPIDescribesExactlyTheTable() async throws {
        let table = try await Self.table()
        var documented: Set<String> = []
        var path: String?
        var inPaths = false
        for line in OpenAPIDocument.yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if let first = line.first, first != " " && first != "#" { break }
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    ") && !line.hasPrefix("     ") && line.hasSuffix(":") {
                let key = line.dropFirst(4).dropLast()
                if ["get", "head", "post", "put", "delete", "options", "patch"].contains(key) {
                    documented.insert("\(key.uppercased()) \(path)")
                }
            }
        }
        let rows = Set(table.rows.map { "\($0.method) \($0.path.text.replacingOccurrences(of: "...}", with: "}"))" })
        let implicitHeads = Set(documented.filter { $0.hasPrefix("HEAD ") && !rows.contains($0) && rows.contains("GET " + $0.dropFirst(5)) })
        #expect(documented.subtracting(implicitHeads) == rows)
    }
}
