import ArgumentParser
import Foundation
import JSONKit
#if canImport(Glibc)
import Glibc
#endif

/// `presignd probe URL`: GET an http://127.0.0.1:PORT/path URL and exit 0 on a 2xx answer. The container's
/// HEALTHCHECK uses it, so the runtime image needs no curl.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Check an HTTP endpoint (exit 0 on 2xx); for container health checks.")

    @Argument(help: "http://HOST:PORT/PATH (an IPv4 address).")
    var url: String

    @Option(parsing: .unconditional, help: "Seconds to wait for the answer.")
    var timeout: Int = 3

    func validate() throws {
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout: must be between 1 and 3600; got \(timeout)") }
    }

    func run() throws {
        guard url.hasPrefix("http://") else { throw ValidationError("only http:// URLs") }
        let rest = url.dropFirst(7)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        guard let parsed = try? Authority(parsing: authority), let port = parsed.port else {
            throw ValidationError("expected http://HOST:PORT/PATH")
        }
        guard case .ipv4(let octets) = parsed.host else { throw ValidationError("HOST must be an IPv4 address") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: octets) }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket failed") }
        defer { close(fd) }
        var limit = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw ValidationError("cannot connect to \(authority)") }
        let request = Array("GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(authority)\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, 0) == request.count else { throw ValidationError("send failed") }
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = recv(fd, &buffer, buffer.count, 0)
        let head = String(decoding: buffer.prefix(max(count, 0)), as: UTF8.self)
        guard head.hasPrefix("HTTP/1.1 2") || head.hasPrefix("HTTP/1.0 2") else {
            throw ValidationError("unhealthy: \(head.split(separator: "\r\n").first ?? "no answer")")
        }
    }
}
