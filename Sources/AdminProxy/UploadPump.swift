import S3Client

/// The flow of one streamed upload, from the client's request body to curl's read callback, as a state machine.
/// It owns the bytes in between and decides backpressure both ways; it touches no socket and no curl handle, so
/// tests drive it with plain calls and compare exact action lists. `UploadRelay` carries the actions out.
///
/// Two pauses meet here:
/// - towards the client: over `highWater` buffered bytes the connection stops reading the socket (`pauseBody`), and
///   starts again once the backend has taken the buffer below `lowWater` (`resumeBody`);
/// - towards the backend: curl asking while nothing is buffered is told to wait (curl pauses the transfer), and is
///   resumed (`feedBackend`) by the next chunk or by the body's end.
struct UploadPump {
    enum Action: Equatable {
        /// Stop reading the client's socket: more than `highWater` bytes wait for the backend.
        case pauseBody
        /// Read the client's socket again: the backend took the buffer below `lowWater`.
        case resumeBody
        /// curl paused for want of bytes; bytes (or the body's end) are here now, so resume the transfer.
        case feedBackend
        /// The backend finished: answer the client.
        case respond(Answer)
        /// The client went away mid-upload: cancel the backend transfer. Nobody is left to answer.
        case abort
    }

    enum Answer: Equatable {
        /// 200 with `{"bucket":…,"key":…}`.
        case stored
        /// The backend's error, mapped by `AdminProxy.errorResponse`.
        case failed(S3Error)
    }

    /// What curl's read callback gets.
    enum Read: Equatable {
        /// This many bytes were copied into its buffer.
        case bytes(Int)
        /// The body is complete (curl's 0).
        case end
        /// Nothing is buffered yet (curl's pause); a `feedBackend` action follows when there is.
        case wait
    }

    /// The answer to `backendWantsData`: the read for curl at once, and the actions to carry out before returning it.
    struct Feed: Equatable {
        var read: Read
        var actions: [Action]
    }

    enum State: Equatable {
        /// Bytes flow; `bodyEnded` says whether the client has sent its last one.
        case streaming(bodyEnded: Bool)
        /// The backend answered (success or failure); later body bytes are dropped.
        case finished
        /// The client went away; the transfer is being cancelled and nothing is answered.
        case abandoned
    }

    let highWater: Int
    let lowWater: Int
    /// Once the backend has taken this many bytes from the front of the buffer, they are dropped from memory (so
    /// a buffer that never fully drains does not grow); smaller leftovers wait for the buffer to empty.
    let compactAfter: Int

    private(set) var state: State = .streaming(bodyEnded: false)
    private var pending: [UInt8] = []
    /// Bytes of `pending` already handed to the backend.
    private var offset = 0
    /// curl was told to wait and is paused until `feedBackend`.
    private var backendWaiting = false
    /// The client's socket is not being read.
    private var bodyPaused = false

    init(highWater: Int = AdminProxy.uploadHighWater, lowWater: Int = AdminProxy.uploadHighWater / 4,
         compactAfter: Int = 256 << 10) {
        self.highWater = highWater
        self.lowWater = lowWater
        self.compactAfter = compactAfter
    }

    /// Bytes received from the client and not yet taken by the backend.
    var buffered: Int { pending.count - offset }
    /// Bytes held in memory, including taken ones not yet dropped (at most `compactAfter` more than `buffered`).
    var held: Int { pending.count }

    /// A piece of the request body arrived.
    mutating func bodyChunk(_ chunk: [UInt8]) -> [Action] {
        guard case .streaming(bodyEnded: false) = state else { return [] }
        pending += chunk
        var actions: [Action] = []
        if buffered > highWater && !bodyPaused {
            bodyPaused = true
            actions.append(.pauseBody)
        }
        if backendWaiting {
            backendWaiting = false
            actions.append(.feedBackend)
        }
        return actions
    }

    /// The client sent the last byte of the body.
    mutating func bodyEnded() -> [Action] {
        guard case .streaming(bodyEnded: false) = state else { return [] }
        state = .streaming(bodyEnded: true)
        guard backendWaiting else { return [] }
        backendWaiting = false
        return [.feedBackend]
    }

    /// curl's read callback: copies up to `buffer.count` bytes into `buffer`.
    mutating func backendWantsData(into buffer: UnsafeMutableRawBufferPointer) -> Feed {
        guard case .streaming(let bodyEnded) = state else { return Feed(read: .wait, actions: []) }
        guard buffered > 0 else {
            if bodyEnded { return Feed(read: .end, actions: []) }
            backendWaiting = true
            return Feed(read: .wait, actions: resumeIfBelowLowWater())
        }
        let count = min(buffered, buffer.count)
        pending.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
        offset += count
        if offset == pending.count {
            pending.removeAll(keepingCapacity: true)
            offset = 0
        } else if offset >= compactAfter {
            // Drop what curl has taken, so the buffer holds only what is still to send.
            pending.removeSubrange(0..<offset)
            offset = 0
        }
        return Feed(read: .bytes(count), actions: resumeIfBelowLowWater())
    }

    private mutating func resumeIfBelowLowWater() -> [Action] {
        guard bodyPaused && buffered < lowWater else { return [] }
        bodyPaused = false
        return [.resumeBody]
    }

    /// The backend transfer ended: the answer goes to the client, and buffered bytes are let go.
    mutating func backendFinished(_ result: Result<Void, S3Error>) -> [Action] {
        guard case .streaming = state else { return [] }
        state = .finished
        release()
        switch result {
        case .success: return [.respond(.stored)]
        case .failure(let error): return [.respond(.failed(error))]
        }
    }

    /// The client went away before the answer.
    mutating func connectionLost() -> [Action] {
        guard case .streaming = state else { return [] }
        state = .abandoned
        release()
        return [.abort]
    }

    private mutating func release() {
        pending = []
        offset = 0
        backendWaiting = false
    }
}
