import HTTPServer
import S3Client
import S3Signing

/// The glue of one streamed download: feeds curl's and the connection's events to a `DownloadPump` and carries its
/// actions out. It decides nothing itself.
///
/// Events are queued and fed one at a time from a loop, so an event raised while an action is carried out waits its
/// turn instead of re-entering the pump: cancelling the transfer runs its completion at once, and that
/// `backendFinished` is fed after the cancel is done. curl's write callback is the one event that cannot wait (curl
/// needs its verdict now); curl calls it only from its own socket and timer work, and the backend is resumed on the
/// loop's next turn (`resumeNextTurn`), so it never lands in the middle of an action.
///
/// Ownership: the context's connection-lost handler, the transfer's callbacks and each write's flush callback hold
/// the relay; the context drops its handler when the exchange ends, curl its callbacks when the transfer finishes.
final class DownloadRelay {
    enum Event {
        case backendHead(S3ResponseHead)
        case flushed(Int)
        case backendFinished(Result<Void, S3Error>)
        case connectionLost
    }

    private var pump: DownloadPump
    private let context: ResponseContext
    private var transfer: S3Transfer?
    private var events: [Event] = []
    private var running = false

    init(pump: DownloadPump = DownloadPump(), context: ResponseContext) {
        self.pump = pump
        self.context = context
    }

    /// Hooks the relay into the context and starts the backend GET with large reads.
    func start(on connection: S3fmAuthConnection, _ call: S3fmAuthConnection.Call, now: SigningTime) {
        context.onConnectionLost = { [self] in handle(.connectionLost) }
        var call = call
        call.receiveBuffer = AdminProxy.downloadReceiveBytes
        let started = connection.stream(
            call, now: now,
            onHead: { [self] head in handle(.backendHead(head)) },
            onBody: { [self] bytes in backendBytes(bytes) },
            completion: { [self] result in
                transfer = nil
                handle(.backendFinished(result))
            })
        // A call refused before sending has already completed (and answered) by now.
        if pump.state == .waiting || pump.state == .streaming { transfer = started }
    }

    private func handle(_ event: Event) {
        events.append(event)
        guard !running else { return }
        running = true
        defer { running = false }
        while !events.isEmpty {
            let actions: [DownloadPump.Action]
            switch events.removeFirst() {
            case .backendHead(let head): actions = pump.backendHead(head)
            case .flushed(let count): actions = pump.flushed(count)
            case .backendFinished(let result): actions = pump.backendFinished(result)
            case .connectionLost: actions = pump.connectionLost()
            }
            for action in actions { carryOut(action) }
        }
    }

    /// curl's write callback: true to take the piece, false to pause until `resumeBackend`.
    private func backendBytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let take = pump.backendBytes(bytes)
        for action in take.actions { carryOut(action) }
        return take.verdict == .accept
    }

    private func carryOut(_ action: DownloadPump.Action) {
        switch action {
        case .startStream(let status, let headers):
            context.startStream(status: HTTPStatus(code: status), headers: headers.map { ($0.name, $0.value) })
        case .write(let bytes):
            let count = bytes.count
            context.write(bytes) { [self] in handle(.flushed(count)) }
        case .finish: context.finish()
        case .resumeBackend: transfer?.resumeNextTurn()
        case .respond(let error): context.respond(AdminProxy.errorResponse(error))
        case .abort: context.abort()
        case .cancelBackend: transfer?.cancel()
        }
    }
}
