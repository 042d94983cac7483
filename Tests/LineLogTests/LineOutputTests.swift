import Foundation
@testable import LineLog
import Logging
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `LineOutput` on a real pipe: lines from many workers arrive whole, a reader that stops costs dropped (and
/// counted) lines rather than a blocked appender, and lines flow again when it reads.
struct LineOutputTests {
    /// A pipe whose read end a thread drains into `lines` once `reading` is opened.
    final class PipeReader: @unchecked Sendable {
        let readEnd: Int32
        let writeEnd: Int32
        private let lock = NSLock()
        private var buffer: [UInt8] = []
        private var finished = false
        let gate = DispatchSemaphore(value: 0)

        init() {
            var fds: [Int32] = [0, 0]
            precondition(pipe(&fds) == 0)
            readEnd = fds[0]
            writeEnd = fds[1]
        }

        /// Starts reading (until end of file); before this the pipe fills and stays full.
        func startReading() {
            let thread = Thread { [self] in
                var chunk = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress!, 65_536) }
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 { break }
                    lock.lock()
                    buffer += chunk[0..<count]
                    lock.unlock()
                }
                lock.lock()
                finished = true
                lock.unlock()
                gate.signal()
            }
            thread.start()
        }

        /// Closes the write end and waits for the reader to see end of file; every byte read.
        func finish() -> [UInt8] {
            close(writeEnd)
            gate.wait()
            close(readEnd)
            lock.lock()
            defer { lock.unlock() }
            return buffer
        }
    }

    static func lines(_ bytes: [UInt8]) -> [Substring] {
        String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map { $0 }
    }

    @Test func linesFromManyWorkersArriveWholeAndInEachWorkersOrder() throws {
        let pipe = PipeReader()
        pipe.startReading()
        let output = LineOutput(fd: pipe.writeEnd, bounds: .init(access: 64 << 20, audit: 64 << 20, log: 64 << 20))
        let workers = 4
        let perWorker = 1500
        let done = DispatchGroup()
        for worker in 0..<workers {
            done.enter()
            let thread = Thread {
                output.bind(worker: worker)
                for number in 0..<perWorker {
                    // Lengths up to 3 KiB, so batches mix long and short lines.
                    let pad = String(repeating: "x", count: (number * 37 + worker * 101) % 3000)
                    #expect(output.append(Array(#"{"w":\#(worker),"n":\#(number),"pad":"\#(pad)"}"#.utf8), stream: .access))
                }
                done.leave()
            }
            thread.start()
        }
        done.wait()
        #expect(output.flush(waitingAtMost: 60))
        let lines = Self.lines(pipe.finish())
        #expect(lines.count == workers * perWorker)
        var next = [Int](repeating: 0, count: workers)
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line.prefix(80))")
            let worker = try #require(object["w"] as? Int)
            let number = try #require(object["n"] as? Int)
            #expect(number == next[worker])
            next[worker] = number + 1
            #expect((object["pad"] as? String)?.count == (number * 37 + worker * 101) % 3000)
        }
        #expect(next == [Int](repeating: perWorker, count: workers))
        for stream in LogStream.allCases { #expect(output.dropped(stream) == 0) }
    }

    @Test func aReaderThatStopsCostsCountedDropsNeverABlockedAppendAndLinesFlowAgainWhenItReads() throws {
        let pipe = PipeReader()
        let output = LineOutput(fd: pipe.writeEnd, bounds: .init(access: 8192, audit: 8192, log: 8192))
        output.bind(worker: 0)
        // 3,000 lines of 100 bytes: far more than the pipe, one batch in flight and the 8 KiB queue hold.
        var accepted = 0
        for number in 0..<3000 {
            let line = #"{"n":\#(number),"pad":""#.utf8 + [UInt8](repeating: 0x2E, count: 80) + #""}"#.utf8
            if output.append(Array(line), stream: .access) { accepted += 1 }
        }
        let dropped = output.dropped(.access)
        #expect(dropped > 0)
        #expect(UInt64(accepted) + dropped == 3000)
        // The reader resumes: what was queued flows, and a new line after it.
        pipe.startReading()
        #expect(output.flush(waitingAtMost: 60))
        #expect(output.append(Array(#"{"after":"resume"}"#.utf8), stream: .audit))
        #expect(output.flush(waitingAtMost: 60))
        let lines = Self.lines(pipe.finish())
        #expect(lines.count == accepted + 1)
        for line in lines { #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "\(line.prefix(80))") }
        #expect(lines.last == #"{"after":"resume"}"#)
        #expect(output.dropped(.audit) == 0)
        #expect(output.dropped(.access) == dropped)
    }

    @Test func aStoppedWriterLeavesTheBoundExactAndAdmitsSaysSoBeforehand() {
        let output = LineOutput(fd: -1, bounds: .init(access: 100, audit: 1000, log: 100), start: false)
        output.bind(worker: 3)
        let line = Array(String(repeating: "a", count: 99).utf8)
        #expect(output.admits(bytes: 99, stream: .audit))
        for _ in 0..<10 { #expect(output.append(line, stream: .audit)) }
        #expect(!output.admits(bytes: 0, stream: .audit))
        #expect(!output.append(line, stream: .audit))
        #expect(output.dropped(.audit) == 1)
        #expect(output.admits(bytes: 99, stream: .access))
    }

    @Test func theHandlerWritesJSONRecordsAsTheyAreAndWrapsOthers() throws {
        let output = LineOutput(fd: -1, start: false)
        output.bind(worker: 5)
        #expect(LineLogHandler.isOneLineJSON(#"{"audit":"presign"}"#))
        #expect(!LineLogHandler.isOneLineJSON("{\"a\":1}\n{\"b\":2}"))
        let wrapped = LineLogHandler.wrapped("config reloaded\n{\"forged\":1}", level: .info, metadata: ["file": "/etc/p.yaml"])
        #expect(String(decoding: wrapped, as: UTF8.self)
            == #"{"file":"/etc/p.yaml","level":"info","message":"config reloaded\n{\"forged\":1}"}"#)
    }
}
