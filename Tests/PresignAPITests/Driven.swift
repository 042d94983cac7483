import Foundation
import HTTPServer
import UVLoop

/// Helpers for the in-memory fakes and the tests that drive a `DrivenLoop` themselves.
enum Driven {
    /// Runs `body` on a later turn of `loop` (a zero timer), as a server's answer would come.
    static func later(on loop: EventLoop, _ body: @escaping () -> Void) {
        final class Holder { var timer: LoopTimer? }
        let holder = Holder()
        let timer = LoopTimer(on: loop) {
            holder.timer?.close()
            holder.timer = nil
            body()
        }
        holder.timer = timer
        timer.start(afterMillis: 0)
    }

    /// Serves `request` through `client`, turning its loop until the answer is complete. Unlike
    /// `InProcessClient.respond`, it waits when the loop has nothing pending: some work runs off the loop and posts
    /// back (a JWKS is parsed in a Task). It waits by suspending, so that work gets a thread of the cooperative pool
    /// (a test blocking it would starve the Task on a small machine). Nil when no answer came after `idleTurns`
    /// idle waits.
    static func respond(_ client: InProcessClient, _ request: HTTPRequest, idleTurns: Int = 5000) async -> HTTPResponse? {
        guard let loop = client.loop else { return client.respond(request) }
        var answer: InProcessClient.Answer?
        client.start(request) { answer = $0 }
        var idle = 0
        while answer == nil {
            if !loop.runOnce() {
                idle += 1
                if idle > idleTurns { return nil }
                try? await Task.sleep(nanoseconds: 1_000_000)
            }
        }
        return answer?.response
    }

    /// Turns `loop` until `done()` holds, waiting like `respond`; false when it did not.
    @discardableResult
    static func run(_ loop: DrivenLoop, idleTurns: Int = 5000, until done: () -> Bool) async -> Bool {
        var idle = 0
        while !done() {
            if !loop.runOnce() {
                idle += 1
                if idle > idleTurns { return false }
                try? await Task.sleep(nanoseconds: 1_000_000)
            }
        }
        return true
    }
}
