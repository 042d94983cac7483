import S3Client
import Testing
import TestSupport

@testable import AdminProxy

/// The download's flow between curl's write callback and the client, driven without sockets: small marks (pause
/// over 8 bytes written or batched, resume under 4, a batch goes out at 4 while a write is in flight) and exact
/// action lists.
struct DownloadPumpTests {
    static func pump() -> DownloadPump { DownloadPump(highWater: 8, lowWater: 4, flushBytes: 4) }

    static func give(_ pump: inout DownloadPump, _ bytes: [UInt8]) -> DownloadPump.Take {
        bytes.withUnsafeBytes { pump.backendBytes($0) }
    }

    static let head = S3ResponseHead(status: 200, headers: [("Content-Type", "text/plain"), ("ETag", "\"e\""), ("Server", "weed")])
    static let started = DownloadPump.Action.startStream(
        status: 200, headers: [.init(name: "Content-Type", value: "text/plain"), .init(name: "ETag", value: "\"e\"")])
    static let notFound = S3Error.s3(status: 404, document: S3ErrorDocument(code: "NoSuchKey", message: "gone"))
    static let reset = S3Error.transport(CurlFailure(kind: .transport, message: "reset", headersSent: true))

    @Test func theFirstPieceGoesOutAtOnceAndLaterOnesAreBatchedUntilTheWriteFlushes() {
        var pump = Self.pump()
        #expect(pump.backendHead(Self.head) == [Self.started])
        #expect(Self.give(&pump, [1, 2]) == .init(verdict: .accept, actions: [.write([1, 2])]))
        #expect(Self.give(&pump, [3]) == .init(verdict: .accept, actions: []))
        #expect(Self.give(&pump, [4]) == .init(verdict: .accept, actions: []))
        #expect(pump.flushed(2) == [.write([3, 4])])
        #expect(pump.flushed(2) == [])
        #expect(pump.backendFinished(.success(())) == [.finish])
        #expect(pump.state == .finished)
    }

    @Test func aBatchReachingFlushBytesGoesOutWithoutWaitingForTheFlush() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        #expect(Self.give(&pump, [1]) == .init(verdict: .accept, actions: [.write([1])]))
        #expect(Self.give(&pump, [2, 3]) == .init(verdict: .accept, actions: []))
        #expect(Self.give(&pump, [4, 5]) == .init(verdict: .accept, actions: [.write([2, 3, 4, 5])]))
        #expect(pump.inFlight == 5)
    }

    @Test func overHighWaterThePieceIsHandedBackAndTheBackendResumesUnderLowWater() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        #expect(Self.give(&pump, Array(1...5)) == .init(verdict: .accept, actions: [.write(Array(1...5))]))
        #expect(Self.give(&pump, Array(6...9)) == .init(verdict: .accept, actions: [.write(Array(6...9))]))
        // 9 bytes in flight: the next piece stays with curl.
        #expect(Self.give(&pump, [10]) == .init(verdict: .pause, actions: []))
        #expect(pump.backendPaused)
        // 4 in flight is not under 4: still paused.
        #expect(pump.flushed(5) == [])
        #expect(pump.flushed(4) == [.resumeBackend])
        // curl hands the same piece back.
        #expect(Self.give(&pump, [10]) == .init(verdict: .accept, actions: [.write([10])]))
        #expect(pump.backendFinished(.success(())) == [.finish])
    }

    @Test func whatIsBatchedAtTheEndGoesOutBeforeTheFinish() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        _ = Self.give(&pump, [1])
        _ = Self.give(&pump, [2])
        #expect(pump.backendFinished(.success(())) == [.write([2]), .finish])
        #expect(pump.flushed(1) == [])
        #expect(pump.flushed(1) == [])
    }

    @Test func anErrorBeforeTheHeadIsTheAnswer() {
        var pump = Self.pump()
        #expect(pump.backendFinished(.failure(Self.notFound)) == [.respond(Self.notFound)])
        #expect(pump.backendHead(Self.head) == [])
    }

    @Test func anErrorAfterTheHeadSendsWhatCameThenCutsTheBody() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        _ = Self.give(&pump, [1, 2])
        _ = Self.give(&pump, [3])
        #expect(pump.backendFinished(.failure(Self.reset)) == [.write([3]), .abort])
        #expect(Self.give(&pump, [4]) == .init(verdict: .accept, actions: []))
    }

    @Test func aShortBodyEndsAsTheBackendSaysWithTheBytesThatCame() {
        // curl reports a body shorter than its Content-Length as a transport failure after the head.
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        #expect(Self.give(&pump, [1, 2, 3]) == .init(verdict: .accept, actions: [.write([1, 2, 3])]))
        let short = S3Error.transport(CurlFailure(kind: .transport, message: "transfer closed with 5 bytes remaining", headersSent: true))
        #expect(pump.backendFinished(.failure(short)) == [.abort])
    }

    @Test func theClientLeavingMidBodyCancelsTheBackendOnceAndDropsTheBatch() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        _ = Self.give(&pump, [1])
        _ = Self.give(&pump, [2, 3])
        #expect(pump.connectionLost() == [.cancelBackend])
        #expect(pump.batch == [])
        #expect(pump.connectionLost() == [])
        // The cancel's own completion, and late flushes, change nothing.
        #expect(pump.backendFinished(.failure(Self.reset)) == [])
        #expect(pump.flushed(1) == [])
        #expect(pump.state == .abandoned)
    }

    @Test func theClientLeavingWhilePausedDoesNotResume() {
        var pump = Self.pump()
        _ = pump.backendHead(Self.head)
        _ = Self.give(&pump, Array(1...9))
        #expect(Self.give(&pump, [10]) == .init(verdict: .pause, actions: []))
        #expect(pump.connectionLost() == [.cancelBackend])
        #expect(pump.flushed(9) == [])
    }

    @Test func aSeededStreamArrivesWholeInOrderAndNeverHoldsMoreThanHighWaterPlusAPiece() {
        var random = SplitMix64(seed: 23)
        var pump = DownloadPump(highWater: 64, lowWater: 16, flushBytes: 32)
        _ = pump.backendHead(Self.head)
        let source = (0..<4000).map { _ in UInt8.random(in: 0...255, using: &random) }
        var sent = 0, paused = false
        var received: [UInt8] = [], inFlight: [Int] = []
        func apply(_ actions: [DownloadPump.Action]) {
            for action in actions {
                switch action {
                case .write(let bytes): received += bytes; inFlight.append(bytes.count)
                case .resumeBackend: paused = false
                case .finish: break
                default: Issue.record("unexpected \(action)")
                }
            }
        }
        while sent < source.count || !inFlight.isEmpty {
            if !paused && sent < source.count && Bool.random(using: &random) {
                let count = min(Int.random(in: 1...40, using: &random), source.count - sent)
                let take = Self.give(&pump, Array(source[sent..<sent + count]))
                apply(take.actions)
                if take.verdict == .accept { sent += count } else { paused = true }
            } else if !inFlight.isEmpty {
                apply(pump.flushed(inFlight.removeFirst()))
            } else if sent == source.count {
                break
            }
            #expect(pump.inFlight + pump.batch.count <= 64 + 40)
        }
        apply(pump.backendFinished(.success(())))
        #expect(received == source)
    }
}
