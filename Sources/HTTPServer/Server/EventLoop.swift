@_exported import UVLoop

extension ResponseContext {
    /// The loop this request runs on, for glue that adds its own handles (the admin proxy's curl client).
    public var eventLoop: EventLoop { EventLoop(connection.worker.context) }
}
