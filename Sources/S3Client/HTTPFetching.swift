import UVLoop

/// How presignd fetches a document for itself (a JWKS, an STS answer, container credentials): curl on the
/// worker's loop (`CurlFetch`, through `HTTPFetch`), or a test's fetcher that answers later, stalls, fails or sends
/// hostile bodies. The callers (`RemoteKeySet`, the credential refresher) read and bound what comes back; a fetcher
/// only carries the exchange.
public protocol HTTPFetching: Sendable {
    /// Fetches `request` on `loop` (call on that loop's thread); `done` runs once, on the loop, usually later. A
    /// body over `request.maxBodyBytes` is `.tooLarge`, never a response.
    func fetch(_ request: HTTPFetch.Request, on loop: EventLoop, _ done: @escaping (Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Void)
}

/// The live fetcher: one curl transfer on the loop's `CurlLoop` (`HTTPFetch.fetch`).
public struct CurlFetch: HTTPFetching {
    public init() {}

    public func fetch(_ request: HTTPFetch.Request, on loop: EventLoop, _ done: @escaping (Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Void) {
        HTTPFetch.fetch(request, on: loop, done)
    }
}
