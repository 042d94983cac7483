import Foundation
@testable import HTTPServer
import Testing
import UVLoop

/// The in-process client serves what a socket would: answers that come on a later turn of a real loop, streams
/// collected whole, bodies handed to streaming routes through the context, and a client that leaves before a late
/// answer (dropped and counted by route), all through the one `ResponseContext`.
struct InProcessClientTests {
    static func request(_ method: String, _ target: String, body: String = "") -> HTTPRequest {
        let head = HTTPRequestHead(
            method: HTTPMethod(method), target: target, versionMajor: 1, versionMinor: 1, headers: [], keepAlive: true,
            expectsContinue: false, contentLength: Int64(body.utf8.count), chunked: false)
        return HTTPRequest(head: head, body: Array(body.utf8), requestId: "req-1", clientAddress: "192.0.2.7")
    }

    /// Runs `body` on `context`'s loop on a later turn (a zero timer), as an S3 or Redis completion would.
    static func later(_ context: ResponseContext, _ body: @escaping () -> Void) {
        var timer: LoopTimer?
        timer = LoopTimer(on: context.eventLoop) {
            body()
            timer?.close()
            timer = nil
        }
        timer?.start(afterMillis: 0)
    }

    @Test func anAnswerThatComesOnALaterTurnIsServed() {
        let loop = DrivenLoop()
        defer { loop.close() }
        var router = Router()
        let seenLoop = Locked<EventLoop?>(nil)
        router.add("GET", "/later/{id}") { request, context in
            seenLoop.withLock { $0 = context.eventLoopIfAttached }
            let id = request.parameters["id"] ?? ""
            Self.later(context) { context.respond(.json(.ok, Array(#"{"id":"\#(id)"}"#.utf8))) }
            return nil
        }
        let client = InProcessClient(router: router, loop: loop)
        let exchange = client.start(Self.request("GET", "/later/7"))
        #expect(!exchange.isAnswered)
        #expect(seenLoop.withLock { $0 } == loop.eventLoop)
        #expect(loop.run { exchange.isAnswered })
        #expect(exchange.answer?.response.status.code == 200)
        #expect(String(decoding: exchange.answer?.response.body ?? [], as: UTF8.self) == #"{"id":"7"}"#)
        // `respond` runs the loop itself; routing answers (404, 405) need no loop turn.
        #expect(String(decoding: client.respond(Self.request("GET", "/later/8")).body, as: UTF8.self) == #"{"id":"8"}"#)
        #expect(client.respond(Self.request("POST", "/later/8")).status.code == 405)
        #expect(client.respond(Self.request("GET", "/nope")).status.code == 404)
    }

    @Test func aStreamIsCollectedWholeAndItsFlushesRunOnALaterTurn() {
        let loop = DrivenLoop()
        defer { loop.close() }
        var router = Router()
        let events = Locked<[String]>([])
        router.add("GET", "/stream") { _, context in
            Self.later(context) {
                context.startStream(status: HTTPStatus(code: 206), headers: [("Content-Type", "text/plain")])
                context.write(Array("ab".utf8)) { events.withLock { $0.append("flushed ab") } }
                events.withLock { $0.append("wrote ab") }
                context.write(Array("cd".utf8)) { events.withLock { $0.append("flushed cd") } }
                events.withLock { $0.append("wrote cd") }
                context.finish()
                events.withLock { $0.append("finished") }
            }
            return nil
        }
        let response = InProcessClient(router: router, loop: loop).respond(Self.request("GET", "/stream"))
        #expect(response.status.code == 206)
        #expect(response.headers.map { "\($0.name): \($0.value)" } == ["Content-Type: text/plain"])
        #expect(String(decoding: response.body, as: UTF8.self) == "abcd")
        loop.run { events.withLock { $0.count } == 5 }
        #expect(events.withLock { $0 } == ["wrote ab", "wrote cd", "finished", "flushed ab", "flushed cd"])
    }

    @Test func aCutStreamIsAnsweredAsCut() {
        let loop = DrivenLoop()
        defer { loop.close() }
        var router = Router()
        router.add("GET", "/cut") { _, context in
            Self.later(context) {
                context.startStream(status: .ok, headers: [])
                context.write(Array("partial".utf8))
                context.abort()
            }
            return nil
        }
        var answer: InProcessClient.Answer?
        InProcessClient(router: router, loop: loop).start(Self.request("GET", "/cut")) { answer = $0 }
        #expect(loop.run { answer != nil })
        #expect(answer?.aborted == true)
        #expect(String(decoding: answer?.response.body ?? [], as: UTF8.self) == "partial")
    }

    @Test func aClientThatLeavesHasItsLateAnswerDroppedAndCountedByRoute() {
        let loop = DrivenLoop()
        defer { loop.close() }
        var router = Router()
        let lost = Locked(0)
        let answered = Locked(false)
        let stillOpen = Locked<[Bool]>([])
        router.add("GET", "/l/{id}") { _, context in
            context.onConnectionLost = { lost.withLock { $0 += 1 } }
            Self.later(context) {
                stillOpen.withLock { $0.append(context.isOpen) }
                context.respond(HTTPResponse(status: .ok))
                answered.withLock { $0 = true }
            }
            return nil
        }
        var client = InProcessClient(router: router, loop: loop)
        var dropped: [String] = []
        client.lateAnswerDropped = { dropped.append($0) }
        let exchange = client.start(Self.request("GET", "/l/abc"))
        exchange.leave()
        #expect(lost.withLock { $0 } == 1)
        #expect(loop.run { answered.withLock { $0 } })
        #expect(stillOpen.withLock { $0 } == [false])
        #expect(!exchange.isAnswered)
        #expect(dropped == ["/l/{id}"])
    }

    @Test func aStreamingBodyRouteGetsTheHeadThenTheBodyThroughItsContext() {
        var router = Router()
        let seenBody = Locked<[UInt8]?>(nil)
        router.add("PUT", "/up", streamsBody: true) { request, context in
            seenBody.withLock { $0 = request.body }
            var received: [UInt8] = []
            context.onBodyChunk = { received += $0 }
            context.onBodyEnd = { context.respond(HTTPResponse(status: .ok, body: received)) }
            return nil
        }
        // No loop: the answer comes before `respond` returns, from the body's end.
        let response = InProcessClient(router: router).respond(Self.request("PUT", "/up", body: "hello"))
        #expect(seenBody.withLock { $0 } == [])
        #expect(String(decoding: response.body, as: UTF8.self) == "hello")
    }

    @Test func aDrivenLoopWithNothingPendingSaysSoAndRunsWhatIsPosted() {
        let loop = DrivenLoop()
        defer { loop.close() }
        #expect(!loop.runOnce())
        #expect(!loop.run { false })
        let posted = Locked(false)
        let sent = DispatchSemaphore(value: 0)
        let eventLoop = loop.eventLoop
        Thread {
            eventLoop.post { posted.withLock { $0 = true } }
            sent.signal()
        }.start()
        sent.wait()
        #expect(loop.run { posted.withLock { $0 } })
    }
}

extension RouteTable where Handler == Endpoint {
    /// A public, anonymous row: these tests exercise answering, not admission.
    mutating func add(_ method: String, _ path: String, streamsBody: Bool = false, _ handler: @escaping Endpoint.Handler) {
        add(Endpoint(HTTPMethod(method), PathPattern(path), access: .anonymous, streamsBody: streamsBody, handler: handler))
    }
}
