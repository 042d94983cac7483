/// Where and how to connect. `password`, when set, replaces the URL's (for a password kept out of the URL).
public struct RedisSettings: Sendable {
    public var url: RedisURL
    public var password: String?
    public var connectTimeoutMillis: Int
    public var commandTimeoutMillis: Int
    /// Commands sent and not yet answered on one connection; more fail at once with `.unavailable`.
    public var maxInFlight: Int
    public var backoffInitialMillis: Int
    public var backoffCapMillis: Int

    public init(
        url: RedisURL, password: String? = nil, connectTimeoutMillis: Int = 1000, commandTimeoutMillis: Int = 500,
        maxInFlight: Int = 10_000, backoffInitialMillis: Int = 50, backoffCapMillis: Int = 2000
    ) {
        precondition(connectTimeoutMillis > 0 && commandTimeoutMillis > 0 && maxInFlight > 0)
        precondition(backoffInitialMillis > 0 && backoffCapMillis >= backoffInitialMillis)
        self.url = url
        self.password = password
        self.connectTimeoutMillis = connectTimeoutMillis
        self.commandTimeoutMillis = commandTimeoutMillis
        self.maxInFlight = maxInFlight
        self.backoffInitialMillis = backoffInitialMillis
        self.backoffCapMillis = backoffCapMillis
    }

    /// The commands sent after each connect, before any other: AUTH (with the user when the URL names one, Redis 6+)
    /// and SELECT (when the database is not 0).
    var handshake: [[[UInt8]]] {
        var commands: [[[UInt8]]] = []
        if let password = password ?? url.password {
            if let user = url.user {
                commands.append([Array("AUTH".utf8), Array(user.utf8), Array(password.utf8)])
            } else {
                commands.append([Array("AUTH".utf8), Array(password.utf8)])
            }
        }
        if url.database != 0 { commands.append([Array("SELECT".utf8), Array(String(url.database).utf8)]) }
        return commands
    }
}

/// Closures the service turns into metrics. Each runs on the loop thread.
public struct RedisHooks {
    /// A command answered (with any reply, error replies included), after this many nanoseconds.
    public var latency: (UInt64) -> Void
    /// A command failed (`RedisError.kind`), or the connection failed: `connect_failed`, `connect_timeout`,
    /// `handshake_failed`, `command_timeout`, `disconnected`.
    public var error: (String) -> Void
    /// The connection was made again after it had been up once.
    public var reconnect: () -> Void

    public init(latency: @escaping (UInt64) -> Void = { _ in }, error: @escaping (String) -> Void = { _ in },
                reconnect: @escaping () -> Void = {}) {
        self.latency = latency
        self.error = error
        self.reconnect = reconnect
    }
}
