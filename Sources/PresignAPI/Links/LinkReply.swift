import HTTPServer

/// Lets a handler that may answer before returning (SQLite) or later (Redis) do both through one `send`: an answer
/// sent before `returned()` is handed back as the handler's return value; one sent after goes to the connection.
/// Never both, and the connection is never answered from inside the handler's own call.
final class LaterReply {
    private var returnedYet = false
    private var early: HTTPResponse?
    private let later: (HTTPResponse) -> Void

    init(_ later: @escaping (HTTPResponse) -> Void) { self.later = later }

    func send(_ response: HTTPResponse) {
        if returnedYet { later(response) } else { early = response }
    }

    /// Call once, as the handler returns.
    func returned() -> HTTPResponse? {
        returnedYet = true
        defer { early = nil }
        return early
    }
}
