import PresignConfig
import JSONKit
import Foundation
import HTTPServer
import Logging
import PresignAPI
import ShareLinks

/// Feeds arbitrary bytes through the presign API the way an authenticated caller could: the JSON reader, request
/// parsing, checks, the policy engine and signing, through `PresignService.respond`, as the server routes it.
/// The first byte picks the route and caller; the rest is the body. It traps when an invariant breaks.
public enum APIFuzzHarness {
    static let apiKey = "fuzz-key-0123456789"

    /// The share-link store of this process (one file per fuzzing process).
    static let linksPath = NSTemporaryDirectory() + "presignd-fuzz-links-\(getpid()).sqlite"

    static let yaml = """
        listen: 127.0.0.1:0
        access_log: false
        audit_log: false
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: FUZZ_ACCESS, secret_key_env: FUZZ_SECRET}
          old: {endpoint: "http://s3.example.com", dialect: aws-v2, addressing: virtual,
                access_key_env: FUZZ_ACCESS, secret_key_env: FUZZ_SECRET}
        callers:
          - name: fuzz
            auth: {api_key_sha256: "\(APIKeyAuth.digestHex(apiKey))"}
            rules:
              - {name: png, operations: [put, post_object, get], bucket: "img*", key: "public/*.png", max_expires_in: 3600,
                 content_types: ["image/png", "image/*"], max_content_length: 1000000}
              - {name: docs, operations: [get, head, delete], bucket: docs, key: "a/*/b*", max_expires_in: 86400, backend: main}
              - {name: list, operations: [list_bucket], bucket: "logs", key: "*", max_expires_in: 60}
              - {name: share, operations: [share_link], bucket: "img*", key: "public/*", max_expires_in: 31536000}
        links: {public_base_url: "https://share.example.com", sqlite_path: "\(linksPath)"}
        """

    static let secrets = SecretSource(environment: ["FUZZ_ACCESS": "AKIDFUZZ", "FUZZ_SECRET": "fuzz-secret"])

    static func service(_ config: ServiceConfig) -> PresignService {
        let quiet = Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() })
        return PresignService(config: config, workers: 1, logger: quiet, audit: quiet)
    }

    /// For async callers (tests): never blocks a cooperative thread.
    public static func makeService() async throws -> PresignService {
        service(try await ConfigLoader.load(yaml: yaml, secrets: secrets))
    }

    /// For the fuzzer's main thread (not a cooperative one, so the blocking load is safe there).
    public static func makeServiceBlocking() throws -> PresignService {
        let path = NSTemporaryDirectory() + "presignd-fuzz-\(getpid()).yaml"
        FileManager.default.createFile(atPath: path, contents: Data(yaml.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        return service(try ConfigLoader.loadBlocking(file: path, secrets: secrets))
    }

    /// The value written back through the one writer, for the round-trip check.
    static func render(_ value: JSONValue) -> [UInt8] {
        var writer = JSONWriter()
        writer.value(value)
        return writer.bytes
    }

    static let statuses: Set<Int> = [200, 400, 401, 403, 404, 415, 429]
    static let linkStatuses: Set<Int> = [201, 302, 400, 401, 403, 404, 410, 415]

    /// Share links (first byte bit 2 set): the bytes are a link id for the id parser and `GET /l/{id}` (bit 3
    /// clear), or a `POST /v1/links` body (bit 3 set).
    static func runLinks(_ first: UInt8, _ body: [UInt8], service: PresignService) {
        let response: HTTPResponse
        if first & 8 == 0 {
            let text = String(decoding: body, as: UTF8.self)
            let valid = body.count == 32 && body.allSatisfy(ASCII.isBase64URLByte)
            let id = LinkID(text)
            precondition((id != nil) == valid, "LinkID accepted or refused \(body)")
            if let id { precondition(id.text == text && id.digest.count == 32, "LinkID round trip") }
            var target = "/l/"
            for byte in body { target += String(format: "%%%02X", byte) }
            response = service.respond(HTTPRequest(head: HTTPRequestHead(method: "GET", target: target, headers: []), body: [], requestId: "fuzz"))
            // Nothing random opens a link: a malformed id and an unknown one are the same 404 (or the router's 400).
            precondition(response.status.code == 404 || response.status.code == 400, "GET /l/ answered \(response.status.code)")
        } else {
            var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
            if first & 2 == 0 { headers.append(("Authorization", "Bearer \(apiKey)")) }
            let head = HTTPRequestHead(method: "POST", target: "/v1/links", headers: headers, contentLength: Int64(body.count))
            response = service.respond(HTTPRequest(head: head, body: body, requestId: "fuzz"))
            precondition(linkStatuses.contains(response.status.code), "POST /v1/links answered \(response.status.code)")
            if response.status.code == 201 {
                // A link was made: it must open, once, to a URL for a key the share rule allows.
                guard case .string(let id)? = (try? JSONValue.parse(response.body))?["id"] else { preconditionFailure("201 without an id") }
                let opened = service.respond(HTTPRequest(head: HTTPRequestHead(method: "GET", target: "/l/" + id, headers: []), body: [], requestId: "fuzz"))
                precondition(opened.status.code == 302, "a new link answered \(opened.status.code)")
                let location = opened.headers.first { $0.name == "Location" }?.value ?? ""
                precondition(location.hasPrefix("http://127.0.0.1:8333/img") || location.hasPrefix("http://img"), "link opened \(location)")
            }
        }
        guard response.status.code != 302 else { return }
        if response.status.code != 400 || !response.body.isEmpty {
            precondition((try? JSONValue.parse(response.body)) != nil, "link response is not JSON")
        }
    }

    public static func run(_ input: UnsafeRawBufferPointer, service: PresignService) {
        guard let first = input.first else { return }
        let body = Array(input.dropFirst())
        // JSON alone: it must parse or refuse, never trap, and a value it accepts must survive a round trip.
        if let value = try? JSONValue.parse(body) {
            precondition((try? JSONValue.parse(render(value))) == value, "JSON round trip changed the value")
        }
        if first & 4 != 0 { return runLinks(first, body, service: service) }
        let target = first & 1 == 0 ? "/v1/presign" : "/v1/presign/batch"
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if first & 2 == 0 { headers.append(("Authorization", "Bearer \(apiKey)")) }
        let head = HTTPRequestHead(method: "POST", target: target, headers: headers, contentLength: Int64(body.count))
        let response = service.respond(HTTPRequest(head: head, body: body, requestId: "fuzz"))
        precondition(statuses.contains(response.status.code), "status \(response.status.code)")
        guard let answer = try? JSONValue.parse(response.body) else { preconditionFailure("response is not JSON") }
        if first & 2 != 0 { precondition(response.status.code == 401, "no credentials but \(response.status.code)") }
        guard response.status.code == 200, target == "/v1/presign" else { return }
        // A URL was signed: its bucket and key are what a rule allows.
        guard case .string(let url)? = answer["url"], let request = try? JSONValue.parse(body),
            case .string(let operation)? = request["operation"]
        else { preconditionFailure("200 without a url") }
        let bucket: String? = if case .string(let b)? = request["bucket"] { b } else { nil }
        let key: String? = if case .string(let k)? = request["key"] { k } else { nil }
        switch operation {
        case "put", "get", "post_object":
            precondition(bucket?.hasPrefix("img") == true || (operation == "get" && bucket == "docs"), "bucket \(bucket ?? "-")")
            if bucket != "docs" {
                precondition(key?.hasPrefix("public/") == true && key?.hasSuffix(".png") == true, "key \(key ?? "-")")
            }
        case "head", "delete":
            precondition(bucket == "docs" && key?.hasPrefix("a/") == true, "bucket \(bucket ?? "-") key \(key ?? "-")")
        case "list_bucket":
            precondition(bucket == "logs", "bucket \(bucket ?? "-")")
        default:
            preconditionFailure("operation \(operation) was signed")
        }
        // The URL names the backend the request chose: path style on main, the bucket as host on old.
        let expectedPrefix: String
        if case .string("old")? = request["backend"] {
            expectedPrefix = "http://\(bucket ?? "").s3.example.com/"
        } else {
            expectedPrefix = "http://127.0.0.1:8333/"
        }
        precondition(url.hasPrefix(expectedPrefix), "url \(url) does not start with \(expectedPrefix)")
    }
}
