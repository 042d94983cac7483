import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Blocking loopback sockets for tests' own peers (fake servers, hostile backends, probes).
public enum Loopback {
    /// A TCP socket bound to 127.0.0.1 on a port the kernel picks; the socket and the port.
    public static func bound() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A listening socket on a loopback port of its own; the socket and the port.
    public static func listener(backlog: Int32 = 16) -> (fd: Int32, port: Int) {
        let bound = bound()
        listen(bound.fd, backlog)
        return bound
    }

    /// A loopback port free a moment ago, and that nothing listens on (a connect to it is refused).
    public static func freePort() -> Int {
        let bound = bound()
        close(bound.fd)
        return bound.port
    }

    /// A socket connected to `port` on 127.0.0.1; nil if the connect failed (the socket is then closed).
    public static func connect(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Whether something accepts connections on `port`.
    public static func accepts(port: Int) -> Bool {
        guard let fd = connect(port: port) else { return false }
        close(fd)
        return true
    }
}
