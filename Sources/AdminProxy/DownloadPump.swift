import S3Client

/// The flow of one streamed download, from curl's write callback to the client's socket, as a state machine. It
/// owns the bytes in between, batches them into large writes and decides backpressure; it touches no socket and no
/// curl handle, so tests drive it with plain calls and compare exact action lists. `DownloadRelay` carries the
/// actions out.
///
/// Batching: curl hands over pieces of at most its receive buffer. A piece is copied once, into the batch; the batch
/// goes out as one chunk at once when nothing of this body is on its way to the client (an idle socket is never kept
/// waiting), else when it reaches `flushBytes` or when an earlier write has reached the kernel. So a fast client gets
/// each piece straight away and a busy one gets few large writes (one `uv_write` per batch instead of one per piece).
///
/// Backpressure: while `inFlight` (written, not yet flushed) plus the batch are over `highWater`, a piece is refused
/// (curl keeps it and pauses); once flushes bring them under `lowWater` the backend is resumed.
struct DownloadPump {
    /// A header the client gets (the backend's, filtered by `AdminProxy.passThrough`).
    struct Field: Equatable {
        var name: String
        var value: String
    }

    enum Action: Equatable {
        /// Start the chunked answer with the backend's status and the passed-through headers.
        case startStream(status: Int, headers: [Field])
        /// Write these bytes as one chunk; report `flushed(count)` when they reach the kernel.
        case write([UInt8])
        /// The body is complete: end the chunked answer.
        case finish
        /// Resume the paused backend transfer (on the loop's next turn: curl would call straight back).
        case resumeBackend
        /// The backend failed before its head: answer with the error.
        case respond(S3Error)
        /// The backend failed after its head: cut the body (the client sees a truncated chunked answer).
        case abort
        /// The client went away: cancel the backend transfer. Nobody is left to answer.
        case cancelBackend
    }

    /// What curl's write callback gets.
    enum Verdict: Equatable {
        /// The piece is taken (copied, or dropped once nobody waits for it).
        case accept
        /// Hand it back later: curl pauses; a `resumeBackend` action follows.
        case pause
    }

    /// The answer to `backendBytes`: the verdict for curl at once, and the actions to carry out before returning it.
    struct Take: Equatable {
        var verdict: Verdict
        var actions: [Action]
    }

    enum State: Equatable {
        /// The backend's head has not come yet.
        case waiting
        /// The head went out; body bytes flow.
        case streaming
        /// The answer is complete, cut or given as an error.
        case finished
        /// The client went away; the transfer is being cancelled.
        case abandoned
    }

    let highWater: Int
    let lowWater: Int
    let flushBytes: Int

    private(set) var state: State = .waiting
    /// Bytes taken from curl and not yet written.
    private(set) var batch: [UInt8] = []
    /// Bytes written whose flush has not been reported.
    private(set) var inFlight = 0
    /// curl was told to pause and waits for `resumeBackend`.
    private(set) var backendPaused = false

    init(highWater: Int = AdminProxy.highWater, lowWater: Int = AdminProxy.lowWater,
         flushBytes: Int = AdminProxy.downloadFlushBytes) {
        self.highWater = highWater
        self.lowWater = lowWater
        self.flushBytes = flushBytes
    }

    /// The backend's successful head arrived (an error status never comes here: it ends as `backendFinished`).
    mutating func backendHead(_ head: S3ResponseHead) -> [Action] {
        guard state == .waiting else { return [] }
        state = .streaming
        let fields = AdminProxy.passThrough(head).map { Field(name: $0.name, value: $0.value) }
        return [.startStream(status: head.status, headers: fields)]
    }

    /// curl's write callback: a piece of the body.
    mutating func backendBytes(_ bytes: UnsafeRawBufferPointer) -> Take {
        guard state == .streaming else { return Take(verdict: .accept, actions: []) }
        // Pausing hands the same bytes back later (curl keeps them), so decide before taking them.
        if inFlight + batch.count > highWater {
            backendPaused = true
            return Take(verdict: .pause, actions: [])
        }
        if batch.isEmpty { batch.reserveCapacity(max(flushBytes, bytes.count)) }
        batch.append(contentsOf: bytes)
        guard inFlight == 0 || batch.count >= flushBytes else { return Take(verdict: .accept, actions: []) }
        return Take(verdict: .accept, actions: [writeBatch()])
    }

    /// A write of `count` bytes reached the kernel.
    mutating func flushed(_ count: Int) -> [Action] {
        inFlight -= count
        guard state == .streaming else { return [] }
        var actions: [Action] = []
        if !batch.isEmpty { actions.append(writeBatch()) }
        if backendPaused && inFlight + batch.count < lowWater {
            backendPaused = false
            actions.append(.resumeBackend)
        }
        return actions
    }

    /// The backend transfer ended.
    mutating func backendFinished(_ result: Result<Void, S3Error>) -> [Action] {
        let started: Bool
        switch state {
        case .waiting: started = false
        case .streaming: started = true
        case .finished, .abandoned: return []
        }
        state = .finished
        var actions: [Action] = batch.isEmpty ? [] : [writeBatch()]
        batch = []
        switch result {
        case .success: actions.append(.finish)
        case .failure(let error): actions.append(started ? .abort : .respond(error))
        }
        return actions
    }

    /// The client went away before the end.
    mutating func connectionLost() -> [Action] {
        guard state == .waiting || state == .streaming else { return [] }
        state = .abandoned
        batch = []
        backendPaused = false
        return [.cancelBackend]
    }

    private mutating func writeBatch() -> Action {
        let out = batch
        batch = []
        inFlight += out.count
        return .write(out)
    }
}
