import HTTPServer
import S3Client
import S3Signing

/// The glue of one streamed upload: feeds the connection's and curl's events to an `UploadPump` and carries its
/// actions out. It decides nothing itself.
///
/// Events are queued and fed one at a time from a loop, so an event raised while an action is carried out waits
/// its turn instead of re-entering the pump: cancelling the transfer (`abort`) runs its completion at once, and
/// that `backendFinished` is fed after the `abort` is done. curl's read callback is the one event that cannot
/// wait (curl needs its count now); curl calls it only from its own socket and timer work, never from inside
/// `resume()` or `cancel()`, so it never lands in the middle of an action.
///
/// Ownership: the context's body and connection-lost handlers and the transfer's callbacks hold the relay; the
/// context drops its handlers when the exchange ends, and curl drops its callbacks when the transfer finishes.
final class UploadRelay {
    enum Event {
        case bodyChunk([UInt8])
        case bodyEnded
        case backendFinished(Result<Void, S3Error>)
        case connectionLost
    }

    private var pump: UploadPump
    private let context: ResponseContext
    private let bucket: String
    private let key: String
    private var transfer: S3Transfer?
    private var events: [Event] = []
    private var running = false

    init(pump: UploadPump = UploadPump(), context: ResponseContext, bucket: String, key: String) {
        self.pump = pump
        self.context = context
        self.bucket = bucket
        self.key = key
    }

    /// Hooks the relay into the context and starts the backend PUT; the answer comes from the pump's `respond`.
    func start(on connection: S3fmAuthConnection, headers: [(name: String, value: String)], length: Int64?, now: SigningTime) {
        context.onBodyChunk = { [self] in handle(.bodyChunk($0)) }
        context.onBodyEnd = { [self] in handle(.bodyEnded) }
        context.onConnectionLost = { [self] in handle(.connectionLost) }
        let upload = S3fmAuthConnection.Upload(length: length) { [self] in backendWantsData(into: $0) }
        let started = connection.stream(
            .init(.put, bucket: bucket, key: key, headers: headers), upload: upload, now: now,
            onHead: { _ in }, onBody: { _ in true },
            completion: { [self] result in
                transfer = nil
                handle(.backendFinished(result))
            })
        // A call refused before sending has already completed (and answered) by now.
        if case .streaming = pump.state { transfer = started }
    }

    private func handle(_ event: Event) {
        events.append(event)
        guard !running else { return }
        running = true
        defer { running = false }
        while !events.isEmpty {
            let actions: [UploadPump.Action]
            switch events.removeFirst() {
            case .bodyChunk(let chunk): actions = pump.bodyChunk(chunk)
            case .bodyEnded: actions = pump.bodyEnded()
            case .backendFinished(let result): actions = pump.backendFinished(result)
            case .connectionLost: actions = pump.connectionLost()
            }
            for action in actions { carryOut(action) }
        }
    }

    /// curl's read callback: a count, 0 at the end, nil to pause until `feedBackend`.
    private func backendWantsData(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let feed = pump.backendWantsData(into: buffer)
        for action in feed.actions { carryOut(action) }
        switch feed.read {
        case .bytes(let count): return count
        case .end: return 0
        case .wait: return nil
        }
    }

    private func carryOut(_ action: UploadPump.Action) {
        switch action {
        case .pauseBody: context.pauseBody()
        case .resumeBody: context.resumeBody()
        case .feedBackend: transfer?.resume()
        case .respond(.stored): context.respond(.json(.ok, AdminJSON.stored(bucket: bucket, key: key)))
        case .respond(.failed(let error)): context.respond(AdminProxy.errorResponse(error))
        case .abort: transfer?.cancel()
        }
    }
}
