import JSONKit

/// Everything `HTTPServer` needs to listen and bound its work.
public struct ServerConfiguration: Sendable {
    /// `host:port` for the public listener; `[::1]:8080` for IPv6.
    public var listen: String = "127.0.0.1:8080"
    /// An optional second listener (the admin port), served by the same workers with `adminRouter`.
    public var adminListen: String?
    public var workers: Int = 1
    public var limits = HTTPRequestDecoder.Limits()
    public var timeouts = HTTPConnectionCore.Timeouts()
    /// Connections one worker holds before it stops accepting (it resumes when one closes).
    public var maxConnectionsPerWorker: Int = 20_000
    /// How long SIGTERM/SIGINT waits for in-flight requests.
    public var drainMillis: UInt64 = 10_000
    public var accessLog: Bool = true
    /// The largest body a streaming route (the admin proxy's uploads) accepts.
    public var maxStreamedBodyBytes: Int64 = 5 << 30
    /// Called on the worker's loop when an answer came after its client had left and was dropped, with the
    /// worker's index and the route pattern (presignd counts `presignd_late_answers_dropped_total{route}`).
    public var lateAnswerDropped: (@Sendable (_ worker: Int, _ route: String) -> Void)?

    public init() {}
}

/// A `host:port` pair, parsed strictly.
public struct ListenAddress: Sendable, Equatable {
    public let host: String
    public let port: Int

    /// `host:port` (`[v6]:port` for IPv6) by the shared `Authority` rules; port 0 lets the system pick one.
    public init(parsing text: String) throws(ServerError) {
        let authority: Authority
        do { authority = try Authority(parsing: text, for: .listen) } catch {
            throw ServerError("invalid listen address '\(text)': \(error.message)")
        }
        host = authority.hostText
        port = authority.port ?? 0
    }

    /// The address as 16 bytes, IPv4 as IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so that two spellings of one address
    /// (`::1` and `0:0:0:0:0:0:0:1`, `127.0.0.1` and `::ffff:127.0.0.1`) are one; nil for a host name.
    var socketAddress: [UInt8]? {
        let text = host.contains(":") ? "[\(host)]:0" : "\(host):0"
        guard let authority = try? Authority(parsing: text, for: .listen) else { return nil }
        switch authority.host {
        case .ipv4(let bytes): return Self.v4Mapped + bytes
        case .ipv6(let bytes): return bytes
        case .name: return nil
        }
    }

    static let v4Mapped: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]

    /// Listening on every address of its family (`0.0.0.0`, `::` in any spelling, `::ffff:0.0.0.0`): it overlaps
    /// any other address's port (an IPv6 wildcard takes IPv4 connections too).
    var isWildcard: Bool {
        guard let address = socketAddress else { return false }
        return address.allSatisfy { $0 == 0 } || address == Self.v4Mapped + [0, 0, 0, 0]
    }

    /// Whether a listener here and one at `other` would share a port: the same port (not 0) and the same address
    /// by value, or either one a wildcard. Every listener sets SO_REUSEPORT, so the kernel would let both bind.
    func sharesPort(with other: ListenAddress) -> Bool {
        guard port != 0, port == other.port else { return false }
        if isWildcard || other.isWildcard { return true }
        guard let mine = socketAddress, let theirs = other.socketAddress else { return host == other.host }
        return mine == theirs
    }
}

/// A start-up failure with the failing call and its message.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
