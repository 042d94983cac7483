import Foundation
import HTTPFuzzHarness
import HTTPServer
import Testing

/// Inputs that `make fuzz` found or that seed its corpus, replayed on every test run. Each one goes through the
/// harness, which traps when an invariant breaks, and then through `HTTPConnectionCore` driven the same way, so
/// that every action the core took on it is compared with the table below.
struct FuzzRegressionTests {
    typealias Action = HTTPConnectionCore.Action

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted()
    }

    /// Every action the core takes on each input, in order. A new input needs its entry here.
    /// The harness advances its clock 7 ms per read and its header timeout is 50 ms, so a seed whose first byte
    /// cuts it into small reads (chunked: 4 bytes, continue: 6, http10: 2) times out before its head is whole:
    /// those three end in a 408, and only the seeds read at once (first byte 0) reach a dispatch or a refusal.
    static var expected: [String: [Action]] {
        [
            "seed-chunked": [.reject(.headerTimeout)],
            "seed-continue": [.reject(.headerTimeout)],
            "seed-http10": [.reject(.headerTimeout)],
            "seed-pipelined": [.dispatch(.init(method: "GET", target: "/"), body: []), .dispatch(.init(method: "GET", target: "/b"), body: []), .close],
            "seed-smuggle-te-cl": [.reject(.smuggling("both Transfer-Encoding and Content-Length"))],
        ]
    }

    /// Drives a core as `HTTPFuzzHarness.run` does (its limits, timeouts and streamed paths; the first byte picks
    /// the read size; 7 ms per read, a tick after each, then drain and a last tick) and records what it answered.
    static func actions(for input: [UInt8]) -> [Action] {
        guard let first = input.first else { return [] }
        let payload = Array(input.dropFirst())
        let step = first == 0 ? max(payload.count, 1) : Int(first & 0x0F) + 1
        let core = HTTPConnectionCore(
            limits: HTTPFuzzHarness.limits, timeouts: .init(headerMillis: 50, idleMillis: 80, bodyMillis: 60), now: 0,
            streaming: { _, path in path.hasPrefix("/s") }, streamingBodyLimit: 8192)
        var recorded: [Action] = []
        var now: UInt64 = 0
        var closed = false

        func apply(_ actions: [Action]) {
            var pending = actions
            while !pending.isEmpty {
                let action = pending.removeFirst()
                recorded.append(action)
                switch action {
                case .dispatch, .bodyEnd:
                    now += 1
                    pending += core.responded(keepAlive: core.keepAlive, now: now)
                case .reject, .close:
                    closed = true
                case .dispatchStreaming, .bodyChunk, .sendContinue, .pauseReading, .resumeReading:
                    break
                }
            }
        }

        var offset = 0
        while offset < payload.count && !closed {
            let end = min(offset + step, payload.count)
            now += 7
            apply(core.received(Array(payload[offset..<end]), now: now))
            offset = end
            if !closed { apply(core.tick(now: now)) }
        }
        if !closed {
            apply(core.drain())
            now += 1_000
            apply(core.tick(now: now))
        }
        return recorded
    }

    @Test func everyInputInTheDirectoryHasAnExpectedOutcome() {
        #expect(Self.inputs == Self.expected.keys.sorted())
    }

    @Test(arguments: inputs)
    func replayedInputGetsExactlyTheExpectedActions(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        data.withUnsafeBytes { HTTPFuzzHarness.run($0) }
        #expect(Self.actions(for: Array(data)) == Self.expected[name])
    }
}
