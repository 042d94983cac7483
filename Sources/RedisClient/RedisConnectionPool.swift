import UVLoop

/// One `RedisConnection` per worker loop, made on that loop the first time it asks, and made again when the
/// settings change (a SIGHUP with a new URL, password or timeouts). Slot i is touched only by worker i's thread.
public final class RedisConnectionPool: @unchecked Sendable {
    private struct Slot {
        let identity: Identity
        let connection: RedisConnection
    }

    private struct Identity: Equatable {
        let url: RedisURL
        let password: String?
        let connectTimeoutMillis: Int
        let commandTimeoutMillis: Int

        init(_ settings: RedisSettings) {
            url = settings.url
            password = settings.password
            connectTimeoutMillis = settings.connectTimeoutMillis
            commandTimeoutMillis = settings.commandTimeoutMillis
        }
    }

    private let slots = PerWorker<Slot?>(count: LoopLocal<AnyObject>.capacity) { _ in nil }
    private let hooks: @Sendable (Int) -> RedisHooks

    /// `hooks(worker)` gives the metrics hooks of a worker's connection.
    public init(hooks: @escaping @Sendable (Int) -> RedisHooks = { _ in RedisHooks() }) {
        self.hooks = hooks
    }

    /// This loop's connection for `settings`. Call it on the loop's thread.
    public func connection(_ settings: RedisSettings, loop: EventLoop) -> RedisConnection {
        let identity = Identity(settings)
        if let slot = slots[loop.index], slot.identity == identity { return slot.connection }
        slots[loop.index]?.connection.close()
        let made = RedisConnection(settings: settings, loop: loop, hooks: hooks(loop.index))
        slots[loop.index] = Slot(identity: identity, connection: made)
        return made
    }
}
