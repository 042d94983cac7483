import UVLoop

extension ResponseContext {
    /// The loop this request runs on, for glue that adds its own handles (the admin proxy's curl client). Only for
    /// a request that came in on a socket.
    public var eventLoop: EventLoop {
        guard let eventLoopIfAttached else { preconditionFailure("a detached context (the in-process client) has no loop") }
        return eventLoopIfAttached
    }
}
