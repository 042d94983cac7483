import AdminProxy
import Foundation
import HTTPServer
import Logging
import Synchronization
import PresignAPI
import PresignConfig
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The curl client lives on a worker's libuv loop and must die with it: a second server in the same process (worker
/// index 0 again, a new uv loop) must get a fresh client, never the one whose loop is gone.
@Suite(.serialized)
struct LoopLifetimeTests {
    static let token = "loop-lifetime-admin"

    /// A port nothing listens on: curl is refused at once, which proves it really tried to connect.
    static func refusedPort() -> Int { Loopback.freePort() }

    /// One blocking HTTP/1.1 exchange with `Connection: close`; the whole answer as text.
    static func get(port: Int, path: String) -> String {
        guard let fd = Loopback.connect(port: port) else { return "connect failed" }
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nConnection: close\r\n\r\n".utf8)
        _ = send(fd, request, request.count, 0)
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            answer += buffer.prefix(count)
        }
        return String(decoding: answer, as: UTF8.self)
    }

    static func sigtermIsHandled() -> Bool {
        var current = sigaction()
        sigaction(SIGTERM, nil, &current)
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) > 1
    }

    /// Runs a one-worker server with the admin proxy, makes one admin call, stops it with SIGTERM, returns the body.
    static func oneServer(backendPort: Int) async throws -> String {
        let yaml = """
            access_log: false
            audit_log: false
            backends:
              main: {endpoint: "http://127.0.0.1:\(backendPort)", dialect: aws-v4, access_key_env: A, secret_key_env: S,
                     connect_timeout: 2, request_timeout: 5}
            callers: [{name: n, auth: {api_key_sha256: "\(String(repeating: "0", count: 64))"}, rules: [{operations: [get], bucket: b, max_expires_in: 60}]}]
            admin: {token_sha256: ["\(APIKeyAuth.digestHex(token))"]}
            """
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: ["A": "AK", "S": "SK"]))
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let service = PresignService(config: config, workers: 1, logger: logger, audit: logger)
        let adminRows = AdminProxy(generation: { [service] in service.store.generation(worker: $0).serving }, audit: logger).endpoints()
        var configuration = ServerConfiguration()
        configuration.listen = "127.0.0.1:0"
        configuration.adminListen = "127.0.0.1:0"
        configuration.workers = 1
        configuration.accessLog = false
        configuration.drainMillis = 1000
        let server = HTTPServer(configuration: configuration, endpoints: EndpointTable(adminRows), logger: logger)
        let stopped = DispatchSemaphore(value: 0)
        let thread = Thread {
            try? server.run()
            stopped.signal()
        }
        thread.start()
        var ports: [Int] = []
        for _ in 0..<500 where ports.count < 2 || !sigtermIsHandled() {
            ports = server.boundPorts.withLock { $0 }
            usleep(10_000)
        }
        let answer = get(port: ports[1], path: "/admin/v1/buckets")
        kill(getpid(), SIGTERM)
        stopped.wait()
        return String(answer.split(separator: "\r\n\r\n", maxSplits: 1).last ?? "")
    }

    @Test func aSecondServerInTheSameProcessGetsAFreshCurlLoop() async throws {
        let port = Self.refusedPort()
        let expected = #"{"error":{"code":"BadGateway","message":"backend unreachable: Failed to connect to 127.0.0.1 port \#(port)"#
        let first = try await Self.oneServer(backendPort: port)
        #expect(first.hasPrefix(expected), "\(first)")
        let second = try await Self.oneServer(backendPort: port)
        #expect(second.hasPrefix(expected), "\(second)")
    }
}

/// A backend that answers with endless headers, an endless error body or an endless document: the worker cuts each
/// at its cap and answers at once, instead of growing memory or waiting for the request timeout. In the same
/// serialized suite, because each test stops its server with a process-wide SIGTERM.
extension LoopLifetimeTests {
    /// Listens on loopback; for each connection reads the request head, writes `head`, then `filler` forever
    /// (until the peer goes away). Returns the port.
    static func hostileBackend(head: String, filler: [UInt8]) -> Int {
        let (fd, port) = Loopback.listener(backlog: 8)
        signal(SIGPIPE, SIG_IGN)
        let thread = Thread {
            defer { close(fd) }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            defer { close(client) }
            var buffer = [UInt8](repeating: 0, count: 8192)
            _ = recv(client, &buffer, buffer.count, 0)
            let headBytes = Array(head.utf8)
            _ = send(client, headBytes, headBytes.count, Int32(MSG_NOSIGNAL))
            var sent = 0
            while sent < 2 << 30 {
                let count = send(client, filler, filler.count, Int32(MSG_NOSIGNAL))
                if count <= 0 { break }
                sent += count
            }
        }
        thread.start()
        return port
    }

    @Test func endlessHeadersAreCutAt256KiB() async throws {
        let port = Self.hostileBackend(head: "HTTP/1.1 200 OK\r\n", filler: Array("X-Filler: \(String(repeating: "a", count: 1000))\r\n".utf8))
        let body = try await Self.oneServer(backendPort: port)
        #expect(body == #"{"error":{"code":"BadGateway","message":"backend unreachable: response headers over 262144 bytes"}}"#)
    }

    @Test func anEndlessErrorBodyIsCutAndTheStatusKept() async throws {
        let port = Self.hostileBackend(
            head: "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 1000000000000\r\n\r\n", filler: Array(repeating: 0x61, count: 65536))
        let body = try await Self.oneServer(backendPort: port)
        #expect(body == #"{"error":{"code":"HTTP500","message":"the backend answered 500 with no error document"}}"#)
    }

    @Test func anEndlessDocumentIsCutAt16MiB() async throws {
        // Well-formed as far as it goes (an open root, then comments, each under every per-item bound, forever):
        // only the body cap ends it.
        let port = Self.hostileBackend(
            head: "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n<ListAllMyBucketsResult>",
            filler: Array("<!--\(String(repeating: "x", count: 60_000))-->".utf8))
        let body = try await Self.oneServer(backendPort: port)
        #expect(body == #"{"error":{"code":"BadGateway","message":"unreadable backend response: response over 16777216 bytes"}}"#)
    }

    @Test func anEndlessDocumentOfGarbageIsRefusedAtItsFirstBytes() async throws {
        let port = Self.hostileBackend(
            head: "HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n", filler: Array(repeating: 0x61, count: 65536))
        let body = try await Self.oneServer(backendPort: port)
        #expect(body == #"{"error":{"code":"BadGateway","message":"unreadable backend response: not well-formed XML"}}"#)
    }
}
