import S3Client
import Testing

@testable import AdminProxy

/// The upload's flow between the client's body and curl's read callback, driven without sockets: small marks
/// (pause over 8 buffered bytes, resume under 4, drop taken bytes once 4 are taken) and exact action lists.
struct UploadPumpTests {
    static func pump() -> UploadPump { UploadPump(highWater: 8, lowWater: 4, compactAfter: 4) }

    static func bytes(_ range: ClosedRange<UInt8>) -> [UInt8] { Array(range) }

    /// One curl read of at most `max` bytes: what it got, and the actions to carry out before answering curl.
    struct Taken: Equatable {
        var bytes: [UInt8]?
        var read: UploadPump.Read
        var actions: [UploadPump.Action]
    }

    static func take(_ pump: inout UploadPump, max: Int) -> Taken {
        var buffer = [UInt8](repeating: 0, count: max)
        let feed = buffer.withUnsafeMutableBytes { pump.backendWantsData(into: $0) }
        guard case .bytes(let count) = feed.read else { return Taken(bytes: nil, read: feed.read, actions: feed.actions) }
        return Taken(bytes: Array(buffer.prefix(count)), read: feed.read, actions: feed.actions)
    }

    static let internalError = S3Error.s3(
        status: 500,
        document: try! S3ErrorDocument(xml: Array("<Error><Code>InternalError</Code><Message>disk full</Message></Error>".utf8)))

    @Test func aBodyThatEndsBeforeTheBackendDrainsItIsSentWholeThenEnds() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...3)) == [])
        #expect(pump.bodyChunk(Self.bytes(4...5)) == [])
        #expect(pump.bodyEnded() == [])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: [1, 2, 3, 4], read: .bytes(4), actions: []))
        #expect(Self.take(&pump, max: 4) == Taken(bytes: [5], read: .bytes(1), actions: []))
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .end, actions: []))
        #expect(pump.backendFinished(.success(())) == [.respond(.stored)])
    }

    @Test func aBackendThatDrainedTheBufferWaitsAndIsFedByTheNextChunkAndByTheEnd() {
        var pump = Self.pump()
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .wait, actions: []))
        #expect(pump.bodyChunk(Self.bytes(1...2)) == [.feedBackend])
        #expect(pump.bodyChunk(Self.bytes(3...3)) == [])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: [1, 2, 3], read: .bytes(3), actions: []))
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .wait, actions: []))
        #expect(pump.bodyEnded() == [.feedBackend])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .end, actions: []))
        #expect(pump.backendFinished(.success(())) == [.respond(.stored)])
    }

    @Test func anEmptyBodyEndsTheWaitingBackendAtOnce() {
        var pump = Self.pump()
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .wait, actions: []))
        #expect(pump.bodyEnded() == [.feedBackend])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .end, actions: []))
    }

    @Test func theClientIsPausedOnlyAboveTheHighWaterMarkAndOnlyOnce() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...8)) == [])
        #expect(pump.buffered == 8)
        #expect(pump.bodyChunk([9]) == [.pauseBody])
        // Bytes already read from the socket still arrive; they are kept, and no second pause is asked for.
        #expect(pump.bodyChunk([10]) == [])
        #expect(pump.buffered == 10)
    }

    @Test func thePausedClientResumesOnlyOnceTheBackendTookTheBufferBelowTheLowMark() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...10)) == [.pauseBody])
        #expect(Self.take(&pump, max: 3) == Taken(bytes: [1, 2, 3], read: .bytes(3), actions: []))
        #expect(Self.take(&pump, max: 3) == Taken(bytes: [4, 5, 6], read: .bytes(3), actions: []))
        #expect(pump.buffered == 4)
        #expect(Self.take(&pump, max: 1) == Taken(bytes: [7], read: .bytes(1), actions: [.resumeBody]))
        #expect(Self.take(&pump, max: 1) == Taken(bytes: [8], read: .bytes(1), actions: []))
        #expect(pump.bodyChunk(Self.bytes(11...16)) == [])
        #expect(pump.bodyChunk([17]) == [.pauseBody])
    }

    @Test func aSingleChunkOverTheHighWaterMarkPausesAtOnceAndIsSentInPiecesInOrder() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...20)) == [.pauseBody])
        #expect(pump.bodyEnded() == [])
        #expect(Self.take(&pump, max: 8) == Taken(bytes: Self.bytes(1...8), read: .bytes(8), actions: []))
        #expect(Self.take(&pump, max: 8) == Taken(bytes: Self.bytes(9...16), read: .bytes(8), actions: []))
        #expect(Self.take(&pump, max: 8) == Taken(bytes: Self.bytes(17...20), read: .bytes(4), actions: [.resumeBody]))
        #expect(Self.take(&pump, max: 8) == Taken(bytes: nil, read: .end, actions: []))
    }

    @Test func bytesTheBackendTookAreDroppedOnceCompactAfterOfThemPiledUp() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...6)) == [])
        #expect(Self.take(&pump, max: 3) == Taken(bytes: [1, 2, 3], read: .bytes(3), actions: []))
        #expect(pump.held == 6)
        #expect(Self.take(&pump, max: 1) == Taken(bytes: [4], read: .bytes(1), actions: []))
        #expect(pump.held == 2)
        #expect(pump.bodyChunk(Self.bytes(7...8)) == [])
        #expect(Self.take(&pump, max: 8) == Taken(bytes: [5, 6, 7, 8], read: .bytes(4), actions: []))
        #expect(pump.held == 0)
    }

    @Test func aClientGoneMidUploadAbortsTheTransferAndNothingIsAnswered() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...10)) == [.pauseBody])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: [1, 2, 3, 4], read: .bytes(4), actions: []))
        #expect(pump.connectionLost() == [.abort])
        #expect(pump.buffered == 0)
        // Cancelling completes the transfer at once; there is nobody to answer.
        let cancelled = S3Error.badResponse("cancelled")
        #expect(pump.backendFinished(.failure(cancelled)) == [])
        #expect(pump.connectionLost() == [])
        #expect(pump.state == .abandoned)
    }

    @Test func aBackendFailingMidUploadIsAnsweredAtOnceAndLaterBodyBytesAreDropped() {
        var pump = Self.pump()
        #expect(pump.bodyChunk(Self.bytes(1...10)) == [.pauseBody])
        #expect(Self.take(&pump, max: 4) == Taken(bytes: [1, 2, 3, 4], read: .bytes(4), actions: []))
        #expect(pump.backendFinished(.failure(Self.internalError)) == [.respond(.failed(Self.internalError))])
        #expect(pump.buffered == 0)
        #expect(pump.bodyChunk(Self.bytes(11...12)) == [])
        #expect(pump.buffered == 0)
        #expect(pump.bodyEnded() == [])
        #expect(pump.connectionLost() == [])
        #expect(pump.state == .finished)
    }

    @Test func aBackendFailingWhileWaitingForBytesIsNotFedAgain() {
        var pump = Self.pump()
        #expect(Self.take(&pump, max: 4) == Taken(bytes: nil, read: .wait, actions: []))
        let timeout = S3Error.badResponse("timed out")
        #expect(pump.backendFinished(.failure(timeout)) == [.respond(.failed(timeout))])
        #expect(pump.bodyChunk([1]) == [])
        #expect(pump.bodyEnded() == [])
    }

    @Test func theDefaultMarksAreTheProxysOneMebibyteAndAQuarterOfIt() {
        let pump = UploadPump()
        #expect(pump.highWater == 1 << 20)
        #expect(pump.lowWater == 256 << 10)
        #expect(pump.compactAfter == 256 << 10)
    }
}
