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

    /// Listening on every address of its family (0.0.0.0, ::): it overlaps any other address's port.
    var isWildcard: Bool { host == "0.0.0.0" || host == "::" || host == "[::]" }
}

/// A start-up failure with the failing call and its message.
public struct ServerError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
