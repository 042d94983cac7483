import Foundation
import HTTPServer
import Testing

/// What the replay corpora share: one exchange, the line it is recorded as, and the check of a run against its
/// recorded file (`PRESIGND_RECORD_REPLAY=1` writes the file instead; the diff is then the review).
enum Replay {
    struct Exchange {
        var name: String
        var method: String
        var target: String
        var headers: [(String, String)]
        var body: String
        /// Advance the monotonic clock before this request (rate-limit refill), in seconds.
        var advance: UInt64 = 10
        /// Advance the wall clock before this request (link and upload expiry), in seconds.
        var wall: Double = 0
        /// The peer address, when not `Fixture.request`'s 192.0.2.7.
        var peer: String? = nil

        /// The request, as `Fixture.request` builds it.
        var request: HTTPRequest {
            var request = Fixture.request(method, target, body: body, headers: headers)
            if let peer { request.clientAddress = peer }
            return request
        }
    }

    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Replay")

    /// An exchange's line: the request's name, method and target, the exact answer, and the audit and log lines it
    /// wrote. `body` stands in for a body that is not part of the record.
    static func record(_ exchange: Exchange, _ response: HTTPResponse, audit: [String], body: String? = nil) -> [String: Any] {
        [
            "name": exchange.name, "method": exchange.method, "target": exchange.target,
            "status": response.status.code, "reason": response.status.reason,
            "headers": response.headers.map { [$0.name, $0.value] },
            "body": body ?? String(decoding: response.body, as: UTF8.self), "audit": audit,
        ]
    }

    static func line(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    /// Records `produced` into `file` under `PRESIGND_RECORD_REPLAY=1`; otherwise every line must be the recorded one.
    static func check(_ produced: [String], file: URL) throws {
        if ProcessInfo.processInfo.environment["PRESIGND_RECORD_REPLAY"] == "1" {
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (produced.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
            return
        }
        let recorded = try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        #expect(recorded.count == produced.count)
        for (index, (was, now)) in zip(recorded, produced).enumerated() where was != now {
            Issue.record("\(file.lastPathComponent): exchange \(index) changed:\n  recorded: \(was)\n  produced: \(now)")
        }
    }
}
