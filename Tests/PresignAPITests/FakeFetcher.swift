import S3Client
import UVLoop

/// An in-memory `HTTPFetching` for the JWKS and credential fetches: each request takes the next scripted reply
/// (the last one repeats), answered on a later turn of its loop. A reply may be a document (any bytes: hostile
/// bodies included; over the request's `maxBodyBytes` it is `.tooLarge`, as curl's is), a failure, or a stall: the
/// request then waits until the test `release`s it. It keeps every request it was sent.
/// `@unchecked Sendable`: touched only on the thread that drives the test's `DrivenLoop`.
final class FakeFetcher: HTTPFetching, @unchecked Sendable {
    enum Reply {
        case answer(status: Int, headers: [(name: String, value: String)], body: [UInt8])
        case fail(HTTPFetch.Failure)
        case stall

        static func json(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = []) -> Reply {
            .answer(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(text.utf8))
        }

        static let refused = Reply.fail(.transfer(CurlFailure(kind: .transport, message: "Connection refused", headersSent: false)))
    }

    var replies: [Reply]
    var requests: [HTTPFetch.Request] = []
    private var stalled: [(EventLoop, (Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Void)] = []

    init(_ replies: [Reply]) { self.replies = replies }

    var stalledCount: Int { stalled.count }

    func fetch(_ request: HTTPFetch.Request, on loop: EventLoop, _ done: @escaping (Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Void) {
        requests.append(request)
        let reply = replies.count > 1 ? replies.removeFirst() : replies.first ?? .stall
        switch reply {
        case .stall: stalled.append((loop, done))
        case .fail(let failure): Driven.later(on: loop) { done(.failure(failure)) }
        case .answer(let status, let headers, let body):
            let outcome: Result<HTTPFetch.Response, HTTPFetch.Failure> = body.count > request.maxBodyBytes
                ? .failure(.tooLarge(request.maxBodyBytes)) : .success(HTTPFetch.Response(status: status, headers: headers, body: body))
            Driven.later(on: loop) { done(outcome) }
        }
    }

    /// Answers every stalled request with `failure` (the timeout curl would end it with).
    func release(_ failure: HTTPFetch.Failure) {
        let waiting = stalled
        stalled = []
        for (loop, done) in waiting { Driven.later(on: loop) { done(.failure(failure)) } }
    }
}
