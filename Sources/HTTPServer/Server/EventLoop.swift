@_exported import UVLoop

extension ResponseContext {
    /// The loop this request runs on, for glue that adds its own handles (the admin proxy's curl client).
    public var eventLoop: EventLoop { EventLoop(connection.worker.context) }
    /// The loop, or nil for a detached context (the in-process client), for work that may run without one.
    public var eventLoopIfAttached: EventLoop? { attachedConnection.map { EventLoop($0.worker.context) } }
}
