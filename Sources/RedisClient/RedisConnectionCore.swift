import UVLoop

/// The life of one Redis connection, without I/O: connecting, the AUTH/SELECT handshake, commands in flight with
/// their deadlines, timeouts, and backoff between attempts. Events go in with the loop's millisecond clock; actions
/// come out for the glue (`RedisConnection`) to carry out. Generic over the random source of the backoff jitter.
struct RedisConnectionCore<Random: RandomNumberGenerator> {
    struct Configuration: Equatable {
        var connectTimeoutMillis: UInt64
        var commandTimeoutMillis: UInt64
        var maxInFlight: Int
        var backoff: Backoff
        /// Sent after each connect, before the connection takes commands.
        var handshake: [[[UInt8]]]
    }

    enum Phase: Equatable {
        case idle
        case connecting(generation: UInt64, deadline: UInt64)
        case handshaking(generation: UInt64, remaining: Int)
        case connected(generation: UInt64)
        case backoff(until: UInt64)
        case closed
    }

    enum Event: Equatable {
        case start
        /// A caller's command; `id` is the glue's, unique and below `handshakeIDBase`.
        case submit(id: UInt64, arguments: [[UInt8]])
        /// The socket connected (the context of `generation`).
        case connected(generation: UInt64)
        case connectFailed(generation: UInt64, reason: String)
        case replied(id: UInt64, Result<RedisReply, RedisError>)
        /// The glue could not write the command (no socket): the connection is going away.
        case lost(id: UInt64, RedisError)
        case disconnected(generation: UInt64, reason: String)
        /// The timer fired (a deadline passed).
        case tick
        case close
    }

    enum Action: Equatable {
        /// Open a new context for `generation`.
        case connect(generation: UInt64)
        case write(id: UInt64, arguments: [[UInt8]])
        /// Answer the caller of `id`, once.
        case complete(id: UInt64, Result<RedisReply, RedisError>)
        /// Close the current socket (what was pending is failed here; anything the glue reports for it is ignored).
        case disconnect
        /// A connection is up again after having been up before.
        case reconnected
        /// A connection-level failure, for metrics.
        case report(String)
    }

    /// Ids of the handshake's commands, apart from the glue's.
    static var handshakeIDBase: UInt64 { 1 << 63 }

    struct Pending: Equatable {
        var deadline: UInt64
        /// The handshake command's name (AUTH, SELECT), nil for a caller's command.
        var handshake: String?
    }

    let configuration: Configuration
    private var random: Random
    private(set) var phase: Phase = .idle
    private var generation: UInt64 = 0
    /// Failed attempts since the last connection that came up; the next backoff is based on it.
    private(set) var attempts: UInt64 = 0
    private var everConnected = false
    private var nextHandshakeID = handshakeIDBase
    /// Why commands are unavailable now, for their error.
    private(set) var lastFailure = "connecting"
    private(set) var pending: [UInt64: Pending] = [:]
    /// Callers' commands sent while the connection is being made: written, in order, once it is up; failed if the
    /// attempt fails or their own deadline passes first. Counted with `pending` against `maxInFlight`.
    private(set) var waiting: [(id: UInt64, arguments: [[UInt8]], deadline: UInt64)] = []
    /// Pending ids in the order sent; deadlines grow along it. Entries before `orderHead` are done.
    private var order: [UInt64] = []
    private var orderHead = 0

    init(configuration: Configuration, random: Random) {
        self.configuration = configuration
        self.random = random
    }

    /// When the glue must send `.tick`: the connect deadline, the oldest command's deadline or the end of the backoff.
    var nextDeadline: UInt64? {
        switch phase {
        case .idle, .closed: nil
        case .connecting(_, let deadline): min(deadline, waiting.first?.deadline ?? deadline)
        case .backoff(let until): until
        case .handshaking, .connected:
            [orderHead < order.count ? pending[order[orderHead]]?.deadline : nil, waiting.first?.deadline].compactMap { $0 }.min()
        }
    }

    mutating func handle(_ event: Event, now: UInt64) -> [Action] {
        defer { compactOrder() }
        switch event {
        case .start:
            guard phase == .idle else { return [] }
            return beginConnect(now: now)
        case .submit(let id, let arguments):
            return submit(id: id, arguments: arguments, now: now)
        case .connected(let connected):
            guard case .connecting(let current, _) = phase, current == connected else { return [] }
            if configuration.handshake.isEmpty { return established(connected) }
            phase = .handshaking(generation: connected, remaining: configuration.handshake.count)
            return configuration.handshake.map { command in
                let id = nextHandshakeID
                nextHandshakeID += 1
                add(id, Pending(deadline: now + configuration.commandTimeoutMillis,
                                handshake: String(decoding: command[0], as: UTF8.self)))
                return .write(id: id, arguments: command)
            }
        case .connectFailed(let failed, let reason):
            guard case .connecting(let current, _) = phase, current == failed else { return [] }
            lastFailure = "connect failed: \(reason)"
            return [.report("connect_failed")] + failWaiting() + backoff(now: now)
        case .replied(let id, let result):
            guard let entry = pending.removeValue(forKey: id) else { return [] }
            guard let command = entry.handshake else { return [.complete(id: id, result)] }
            return handshakeReplied(command, result, now: now)
        case .lost(let id, let error):
            guard let entry = pending.removeValue(forKey: id) else { return [] }
            return entry.handshake == nil ? [.complete(id: id, .failure(error))] : []
        case .disconnected(let lost, let reason):
            switch phase {
            case .connecting(let current, _), .handshaking(let current, _), .connected(let current):
                guard current == lost else { return [] }
            default:
                return []
            }
            lastFailure = "connection lost: \(reason)"
            return [.report("disconnected")] + failAll(.disconnected) + failWaiting() + backoff(now: now)
        case .tick:
            return tick(now: now)
        case .close:
            let hadContext: Bool
            switch phase {
            case .connecting, .handshaking, .connected: hadContext = true
            default: hadContext = false
            }
            phase = .closed
            lastFailure = "closed"
            return (hadContext ? [.disconnect] : []) + failAll(.disconnected) + failWaiting()
        }
    }

    private mutating func submit(id: UInt64, arguments: [[UInt8]], now: UInt64) -> [Action] {
        guard !arguments.isEmpty else { return [.complete(id: id, .failure(.protocolError("empty command")))] }
        let connecting: Bool
        switch phase {
        case .connected: connecting = false
        case .connecting, .handshaking: connecting = true
        default: return [.complete(id: id, .failure(.unavailable(phase == .closed ? "closed" : lastFailure)))]
        }
        guard pending.count + waiting.count < configuration.maxInFlight else {
            let limit = configuration.maxInFlight
            return [.complete(id: id, .failure(.unavailable("more than \(limit) commands in flight")))]
        }
        if connecting {
            waiting.append((id, arguments, now + configuration.commandTimeoutMillis))
            return []
        }
        add(id, Pending(deadline: now + configuration.commandTimeoutMillis, handshake: nil))
        return [.write(id: id, arguments: arguments)]
    }

    /// Fails the commands waiting for a connection that did not come (`lastFailure` says why).
    private mutating func failWaiting() -> [Action] {
        defer { waiting.removeAll() }
        return waiting.map { .complete(id: $0.id, .failure(.unavailable(lastFailure))) }
    }

    /// Fails, with `.timeout`, the waiting commands whose deadline has passed; the attempt goes on for the rest.
    private mutating func expireWaiting(now: UInt64) -> [Action] {
        // Deadlines grow along the queue: the expired ones are a prefix, removed at once (not one shift each).
        let expired = waiting.firstIndex { $0.deadline > now } ?? waiting.count
        let actions = waiting[..<expired].map { Action.complete(id: $0.id, .failure(.timeout)) }
        waiting.removeFirst(expired)
        return actions
    }

    private mutating func handshakeReplied(_ command: String, _ result: Result<RedisReply, RedisError>, now: UInt64) -> [Action] {
        guard case .handshaking(let current, let remaining) = phase else { return [] }
        switch result {
        case .success(.error(let message)):
            lastFailure = "\(command) failed: \(message)"
        case .failure(let error):
            lastFailure = "\(command) failed: \(error)"
        case .success:
            if remaining > 1 {
                phase = .handshaking(generation: current, remaining: remaining - 1)
                return []
            }
            return established(current)
        }
        return [.report("handshake_failed"), .disconnect] + failAll(.disconnected) + failWaiting() + backoff(now: now)
    }

    private mutating func tick(now: UInt64) -> [Action] {
        var expiredWaiting: [Action] = []
        switch phase {
        case .connecting, .handshaking: expiredWaiting = expireWaiting(now: now)
        default: break
        }
        return expiredWaiting + tickPhase(now: now)
    }

    private mutating func tickPhase(now: UInt64) -> [Action] {
        switch phase {
        case .connecting(_, let deadline) where now >= deadline:
            lastFailure = "connect timed out after \(configuration.connectTimeoutMillis) ms"
            return [.report("connect_timeout"), .disconnect] + failWaiting() + backoff(now: now)
        case .backoff(let until) where now >= until:
            return beginConnect(now: now)
        case .handshaking, .connected:
            var actions: [Action] = []
            var expired = false
            while orderHead < order.count {
                let id = order[orderHead]
                guard let entry = pending[id] else {
                    orderHead += 1
                    continue
                }
                guard entry.deadline <= now else { break }
                orderHead += 1
                pending[id] = nil
                expired = true
                if entry.handshake == nil { actions.append(.complete(id: id, .failure(.timeout))) }
            }
            guard expired else { return [] }
            lastFailure = "a command timed out after \(configuration.commandTimeoutMillis) ms"
            return actions + [.report("command_timeout"), .disconnect] + failAll(.disconnected) + failWaiting() + backoff(now: now)
        default:
            return []
        }
    }

    private mutating func beginConnect(now: UInt64) -> [Action] {
        generation += 1
        phase = .connecting(generation: generation, deadline: now + configuration.connectTimeoutMillis)
        return [.connect(generation: generation)]
    }

    /// Up: the commands that waited for it are written, in the order they came, with their own deadlines.
    private mutating func established(_ current: UInt64) -> [Action] {
        phase = .connected(generation: current)
        attempts = 0
        lastFailure = "connecting"
        defer { everConnected = true }
        var actions: [Action] = everConnected ? [.reconnected] : []
        for command in waiting {
            add(command.id, Pending(deadline: command.deadline, handshake: nil))
            actions.append(.write(id: command.id, arguments: command.arguments))
        }
        waiting.removeAll()
        return actions
    }

    private mutating func backoff(now: UInt64) -> [Action] {
        let delay = configuration.backoff.delay(attempt: Int(min(attempts, 63)), using: &random)
        attempts += 1
        phase = .backoff(until: now + delay)
        return []
    }

    /// Fails every pending caller's command with `error`, in the order sent, and forgets the handshake's.
    private mutating func failAll(_ error: RedisError) -> [Action] {
        var actions: [Action] = []
        for id in order[orderHead...] {
            guard let entry = pending.removeValue(forKey: id) else { continue }
            if entry.handshake == nil { actions.append(.complete(id: id, .failure(error))) }
        }
        pending.removeAll()
        order.removeAll()
        orderHead = 0
        return actions
    }

    private mutating func add(_ id: UInt64, _ entry: Pending) {
        pending[id] = entry
        order.append(id)
    }

    /// Drops answered ids from the front of `order`, and the done prefix when it is large.
    private mutating func compactOrder() {
        while orderHead < order.count, pending[order[orderHead]] == nil { orderHead += 1 }
        if orderHead == order.count {
            order.removeAll(keepingCapacity: true)
            orderHead = 0
        } else if orderHead > 1024 && orderHead * 2 > order.count {
            order.removeFirst(orderHead)
            orderHead = 0
        }
    }
}
