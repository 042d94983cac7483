import LineLog
import Testing
import TestSupport

/// The queue between a worker and stdout: bounded per stream, whole lines only, every drop counted, and lines
/// flow again once the reader takes some.
struct LineQueueTests {
    static let small = LineQueue.Bounds(access: 100, audit: 300, log: 50)

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Everything queued, taken in batches of at most `maxBytes`, as one byte string.
    static func drain(_ queue: inout LineQueue, maxBytes: Int = 4096) -> [UInt8] {
        var out: [UInt8] = []
        while let batch = queue.take(maxBytes: maxBytes) { out += batch.bytes }
        return out
    }

    @Test func aLineThatFitsIsQueuedWithItsNewlineAndCountsAgainstItsStreamOnly() {
        var queue = LineQueue(bounds: Self.small)
        let result1 = queue.append(Self.bytes(#"{"a":1}"#), stream: .access)
        #expect(result1)
        #expect(queue.queued(.access) == 8)
        #expect(queue.queued(.audit) == 0 && queue.queued(.log) == 0)
        #expect(Self.drain(&queue) == Self.bytes("{\"a\":1}\n"))
        #expect(queue.isEmpty && queue.queued(.access) == 0)
    }

    @Test func theBoundIsExactNewlineIncludedAndAFullStreamDropsAndCounts() {
        var queue = LineQueue(bounds: Self.small)
        let line = [UInt8](repeating: UInt8(ascii: "x"), count: 49)  // 50 bytes with its newline: exactly log's bound
        #expect(queue.admits(bytes: 49, stream: .log))
        #expect(!queue.admits(bytes: 50, stream: .log))
        let result2 = queue.append(line, stream: .log)
        #expect(result2)
        #expect(queue.queued(.log) == 50)
        #expect(!queue.admits(bytes: 0, stream: .log))
        let result3 = queue.append([], stream: .log)
        #expect(!result3)
        let result4 = queue.append(Self.bytes("y"), stream: .log)
        #expect(!result4)
        #expect(queue.dropped(.log) == 2)
        #expect(queue.dropped(.access) == 0 && queue.dropped(.audit) == 0)
        // Other streams keep their own room.
        let result5 = queue.append(Self.bytes("audit line"), stream: .audit)
        #expect(result5)
        let result6 = queue.append(Self.bytes("access line"), stream: .access)
        #expect(result6)
    }

    @Test func aLineLongerThanItsWholeBoundIsDroppedNotSplit() {
        var queue = LineQueue(bounds: Self.small)
        let result7 = queue.append([UInt8](repeating: 0x41, count: 100), stream: .access)
        #expect(!result7)
        #expect(queue.dropped(.access) == 1)
        #expect(queue.isEmpty)
    }

    @Test func aLineWithANewlineOfItsOwnIsRefusedAndCounted() {
        var queue = LineQueue(bounds: Self.small)
        let result8 = queue.append(Self.bytes("{\"a\":1}\n{\"forged\":true}"), stream: .audit)
        #expect(!result8)
        #expect(queue.dropped(.audit) == 1)
        #expect(queue.isEmpty)
    }

    @Test func batchesHoldWholeLinesInOrderUpToTheirSize() throws {
        var queue = LineQueue(bounds: .init(access: 1000, audit: 1000, log: 1000))
        queue.append(Self.bytes("aaaa"), stream: .access)  // 5
        queue.append(Self.bytes("bbbbbbb"), stream: .audit)  // 8
        queue.append(Self.bytes("cc"), stream: .log)  // 3
        let taken9 = queue.take(maxBytes: 13)
        let first = try #require(taken9)
        #expect(first.bytes == Self.bytes("aaaa\nbbbbbbb\n"))
        #expect(first.lines == [.init(stream: .access, length: 5), .init(stream: .audit, length: 8)])
        #expect(queue.queued(.access) == 0 && queue.queued(.audit) == 0 && queue.queued(.log) == 3)
        let taken10 = queue.take(maxBytes: 13)
        let second = try #require(taken10)
        #expect(second.bytes == Self.bytes("cc\n"))
        let result11 = queue.take(maxBytes: 13)
        #expect(result11 == nil)
    }

    @Test func aLineLongerThanTheBatchSizeGoesAloneAndWhole() throws {
        var queue = LineQueue(bounds: .init(access: 1000, audit: 1000, log: 1000))
        queue.append([UInt8](repeating: 0x61, count: 20), stream: .access)
        queue.append(Self.bytes("b"), stream: .access)
        let taken12 = queue.take(maxBytes: 8)
        let first = try #require(taken12)
        #expect(first.bytes == [UInt8](repeating: 0x61, count: 20) + [0x0A])
        let taken13 = queue.take(maxBytes: 8)
        #expect(try #require(taken13).bytes == Self.bytes("b\n"))
    }

    @Test func linesFlowAgainOnceTheReaderTakesSome() throws {
        var queue = LineQueue(bounds: .init(access: 30, audit: 30, log: 30))
        for index in 0..<5 { queue.append(Self.bytes("line-\(index)"), stream: .access) }  // 7 bytes each: 4 fit
        #expect(queue.dropped(.access) == 1)
        #expect(!queue.admits(bytes: 6, stream: .access))
        let taken14 = queue.take(maxBytes: 14)
        let taken = try #require(taken14)
        #expect(taken.bytes == Self.bytes("line-0\nline-1\n"))
        #expect(queue.admits(bytes: 6, stream: .access))
        let result15 = queue.append(Self.bytes("line-5"), stream: .access)
        #expect(result15)
        #expect(Self.drain(&queue) == Self.bytes("line-2\nline-3\nline-5\n"))
        #expect(queue.dropped(.access) == 1)
    }

    @Test func aFailedWriteCountsTheLinesItDidNotFinishByStream() throws {
        var queue = LineQueue(bounds: .init(access: 1000, audit: 1000, log: 1000))
        queue.append(Self.bytes("aaaa"), stream: .access)  // bytes 0..<5
        queue.append(Self.bytes("bbbb"), stream: .audit)  // 5..<10
        queue.append(Self.bytes("cccc"), stream: .audit)  // 10..<15
        let taken16 = queue.take(maxBytes: 100)
        let batch = try #require(taken16)
        #expect(batch.unwritten(after: 5) == [0, 2, 0])
        #expect(batch.unwritten(after: 6) == [0, 2, 0])
        #expect(batch.unwritten(after: 0) == [1, 2, 0])
        #expect(batch.unwritten(after: 15) == [0, 0, 0])
        queue.lost(batch, written: 7)
        #expect(queue.dropped(.audit) == 2 && queue.dropped(.access) == 0)
    }

    /// Seeded: random lines of random streams against small bounds, taken in random batch sizes. The output is
    /// exactly the accepted lines in order, every batch ends at a line end, nothing ever holds more than its bound,
    /// and accepted + dropped is every line offered.
    @Test(arguments: [1, 2, 3, 42, 20261207])
    func randomTrafficKeepsBoundsOrderAndCounts(seed: UInt64) throws {
        var random = SplitMix64(seed: seed)
        let bounds = LineQueue.Bounds(access: 200, audit: 500, log: 120)
        var queue = LineQueue(bounds: bounds)
        var expected: [UInt8] = []
        var accepted = [0, 0, 0]
        var offered = [0, 0, 0]
        var written: [UInt8] = []
        for step in 0..<5000 {
            if random.next() % 3 != 0 {
                let stream = LogStream(rawValue: Int(random.next() % 3))!
                let length = Int(random.next() % 90)
                var line = Self.bytes("\(step):")
                while line.count < length { line.append(UInt8(ascii: "a") + UInt8(random.next() % 26)) }
                offered[stream.rawValue] += 1
                let fits = queue.admits(bytes: line.count, stream: stream)
                let result17 = queue.append(line, stream: stream)
                #expect(result17 == fits)
                if fits {
                    expected += line + [0x0A]
                    accepted[stream.rawValue] += 1
                }
            } else if let batch = queue.take(maxBytes: 1 + Int(random.next() % 300)) {
                #expect(batch.bytes.last == 0x0A)
                #expect(batch.bytes.filter { $0 == 0x0A }.count == batch.lines.count)
                #expect(batch.lines.reduce(0) { $0 + $1.length } == batch.bytes.count)
                written += batch.bytes
            }
            for stream in LogStream.allCases { #expect(queue.queued(stream) <= bounds[stream]) }
        }
        written += Self.drain(&queue)
        #expect(written == expected)
        for stream in LogStream.allCases {
            #expect(UInt64(accepted[stream.rawValue]) + queue.dropped(stream) == UInt64(offered[stream.rawValue]))
        }
    }
}
