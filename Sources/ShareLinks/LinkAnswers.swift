import UVLoop

/// Carries a store thread's answers back to the loops that asked. A completion holds its request (not `Sendable`),
/// so it never leaves its loop: it waits here, in that loop's own table under a ticket, and the store thread posts
/// only the ticket and the result (`EventLoop.post`); the loop then takes the completion out and calls it. A loop
/// that has stopped drops the post, and its waiting completions go with the store.
final class LinkAnswers: Sendable {
    /// One loop's waiting completions, touched only on that loop's thread (`LoopLocal`).
    final class Table {
        var nextTicket: UInt64 = 0
        var waiting: [UInt64: AnyObject] = [:]
    }

    final class Waiter<Value> {
        let done: (Result<Value, LinkStoreError>) -> Void
        init(_ done: @escaping (Result<Value, LinkStoreError>) -> Void) { self.done = done }
    }

    private let tables = LoopLocal<Table>()

    /// On `loop`'s thread: keeps `done` until `answer` or `cancel` with the ticket returned.
    func wait<Value>(on loop: EventLoop, _ done: @escaping (Result<Value, LinkStoreError>) -> Void) -> UInt64 {
        let table = tables.get(loop) { Table() }
        table.nextTicket &+= 1
        table.waiting[table.nextTicket] = Waiter(done)
        return table.nextTicket
    }

    /// Any thread: hands `result` to the completion waiting under `ticket`, on `loop`'s thread.
    func answer<Value: Sendable>(_ ticket: UInt64, on loop: EventLoop, _ result: Result<Value, LinkStoreError>) {
        loop.post { [self] in take(ticket, on: loop, as: Value.self)?.done(result) }
    }

    /// On `loop`'s thread: forgets the completion under `ticket` and returns it.
    func take<Value>(_ ticket: UInt64, on loop: EventLoop, as: Value.Type) -> Waiter<Value>? {
        tables.get(loop) { Table() }.waiting.removeValue(forKey: ticket) as? Waiter<Value>
    }

    /// Completions waiting on `loop` (tests).
    func waiting(on loop: EventLoop) -> Int { tables.get(loop) { Table() }.waiting.count }
}
