import UVLoop

/// How a signed S3 request reaches its backend and its answer comes back, on the connection's loop thread: libcurl's
/// multi interface on the worker's loop (`CurlLoop`, the live transport), or a test's in-memory S3 answering on the
/// same loop. `S3fmAuthConnection` signs each call, bounds and reads its answer; a transport only carries bytes, so
/// every route that talks to S3 (uploads, the admin proxy) runs unchanged over either.
public protocol S3Transport: AnyObject {
    /// False once the loop it runs on has shut down: the connection is then made again.
    var isUsable: Bool { get }
    /// Requests in flight (leak checks in tests).
    var activeCount: Int { get }
    /// Sends one request. `handlers.onFinish` runs exactly once, on the loop (before `send` returns only when the
    /// transport is closed); a throw means nothing was sent and no handler will run.
    func send(_ request: S3WireRequest, _ handlers: S3WireHandlers) throws(S3Error) -> any S3WireControl
}

/// One signed request as it goes on the wire.
public struct S3WireRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    /// The request body's length: nil for none, -1 when unknown (sent chunked).
    public var uploadLength: Int64?
    public var timeouts: S3fmAuthConnection.Timeouts
    /// The receive buffer in bytes, or nil for the transport's default.
    public var receiveBuffer: Int?
}

/// What a transport feeds back to its connection, on the loop.
public struct S3WireHandlers {
    /// The final response head (status and headers, repeated ones kept), once, before any body byte.
    public var onHead: (Int, [(name: String, value: String)]) -> Void
    /// A piece of the response body: keep it, hand it back later (`pause`, until `resume`), or end the request.
    public var onData: (UnsafeRawBufferPointer) -> S3WireVerdict
    /// Fills the buffer with request-body bytes: a count, 0 at the end, or nil to pause until `resume`.
    public var readBody: ((UnsafeMutableRawBufferPointer) -> Int?)?
    /// Once, at the end: completed (whatever the status), or why the exchange failed.
    public var onFinish: (Result<Void, CurlFailure>) -> Void
}

/// What the body consumer wants done with a piece of the response.
public enum S3WireVerdict: Sendable {
    case accept
    case pause
    case abort
}

/// A transport's handle on one request in flight.
public protocol S3WireControl: AnyObject {
    /// Ends the request early: no more callbacks but `onFinish`, with a `.cancelled` failure.
    func cancel()
    /// Resumes a paused request (its consumer drained, or more upload bytes arrived).
    func resume()
    /// Resumes it on the loop's next turn, after the work already waiting: for a reader that paused itself so
    /// other work could run.
    func resumeNextTurn()
}

/// Where an `S3ConnectionCache`'s connections send their requests: libcurl on each loop (`.curl`), or a transport a
/// test makes for the loop.
public struct S3Transports: Sendable {
    let make: @Sendable (EventLoop) -> any S3Transport

    public init(_ make: @escaping @Sendable (EventLoop) -> any S3Transport) { self.make = make }

    public static let curl = S3Transports { CurlLoop.on($0) }
}
