import Foundation
import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignAPI
import PresignConfig
import Testing

/// `audit_on_backpressure`: with stdout's audit queue full (its writer stopped, as when nobody reads stdout),
/// `refuse` answers 503 `AuditUnavailable` instead of a grant whose line cannot be queued, and `drop` grants and
/// counts the dropped line. The queue is exact here: the writer never runs, so nothing leaves it.
struct AuditBackpressureTests {
    static let auth = [("Authorization", "Bearer \(Fixture.apiKey)")]
    static let refused = #"{"error":{"code":"AuditUnavailable","message":"the audit log cannot take this grant's line right now (stdout is not being read fast enough); nothing was granted; retry later"}}"#
    static let presign = #"{"operation":"get","bucket":"reports","key":"q3/report.csv"}"#

    /// The fixture's service with `policy`, its audit logger on a stopped `LineOutput` that holds 1,000 audit bytes.
    static func setup(_ policy: String) async throws -> (PresignService, LineOutput) {
        let keys = try Fixture.makeKeys()
        let yaml = "audit_on_backpressure: \(policy)\n" + Fixture.yaml(jwksPath: keys.jwksPath)
            .replacingOccurrences(of: "rate_limit: {per_second: 1, burst: 3}", with: "rate_limit: {per_second: 1000, burst: 100000}")
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        let output = LineOutput(fd: -1, bounds: .init(access: 1 << 20, audit: 1000, log: 1 << 20), start: false)
        let clock = Fixture.Clock()
        let service = PresignService(
            config: config, workers: 1,
            clock: RequestClock(wallSeconds: { clock.wall }, monotonicNanos: { clock.mono }),
            logger: Logger(label: "presignd", factory: { LineLogHandler(label: $0, output: output) }),
            audit: Logger(label: "presignd.audit", factory: { LineLogHandler(label: $0, output: output) }),
            logOutput: output)
        return (service, output)
    }

    /// Statuses of `count` presigns (all on this thread, so all on one queue).
    static func presigns(_ service: PresignService, _ count: Int) -> [HTTPResponse] {
        (0..<count).map { _ in service.respond(Fixture.request("POST", "/v1/presign", body: presign, headers: auth)) }
    }

    @Test func refuseAnswers503OnceTheAuditLineCannotBeQueuedAndDropsNothing() async throws {
        let (service, output) = try await Self.setup("refuse")
        let answers = Self.presigns(service, 10)
        let granted = answers.prefix { $0.status.code == 200 }.count
        // The line is 220-odd bytes: four fit in 1,000, the fifth does not.
        #expect(granted == 4)
        for refused in answers.dropFirst(granted) {
            #expect(refused.status.code == 503)
            #expect(Fixture.text(refused) == Self.refused)
            #expect(Fixture.header(refused, "Retry-After") == "5")
        }
        #expect(output.dropped(.audit) == 0)
        // A batch is audited whole or refused whole: no item is handed out.
        let batch = service.respond(Fixture.request(
            "POST", "/v1/presign/batch", body: #"{"requests":[\#(Self.presign),\#(Self.presign)]}"#, headers: Self.auth))
        #expect(batch.status.code == 503)
        #expect(Fixture.text(batch) == Self.refused)
        let metrics = String(decoding: service.metrics.render(), as: UTF8.self)
        #expect(metrics.contains(#"presignd_urls_issued_total{operation="get",backend="main"} 4"#))
        #expect(metrics.contains(#"presignd_log_lines_dropped_total{stream="audit"} 0"#))
    }

    @Test func dropGrantsAndCountsEveryLineThatDidNotFit() async throws {
        let (service, output) = try await Self.setup("drop")
        let answers = Self.presigns(service, 10)
        #expect(answers.allSatisfy { $0.status.code == 200 })
        #expect(output.dropped(.audit) == 6)
        let metrics = String(decoding: service.metrics.render(), as: UTF8.self)
        #expect(metrics.contains(#"presignd_log_lines_dropped_total{stream="audit"} 6"#))
        #expect(metrics.contains(#"presignd_log_lines_dropped_total{stream="access"} 0"#))
        #expect(metrics.contains(#"presignd_urls_issued_total{operation="get",backend="main"} 10"#))
    }

    @Test func withTheAuditLogOffNothingIsRefused() async throws {
        let keys = try Fixture.makeKeys()
        let config = try await ConfigLoader.load(yaml: "audit_log: false\n" + Fixture.yaml(jwksPath: keys.jwksPath),
                                                 secrets: SecretSource(environment: Fixture.environment))
        let output = LineOutput(fd: -1, bounds: .init(access: 1 << 20, audit: 0, log: 1 << 20), start: false)
        let audit = Logger(label: "presignd.audit", factory: { LineLogHandler(label: $0, output: output) })
        let service = PresignService(config: config, workers: 1, logger: audit, audit: audit, logOutput: output)
        let answer = service.respond(Fixture.request("POST", "/v1/presign", body: Self.presign, headers: Self.auth))
        #expect(answer.status.code == 200)
        #expect(output.dropped(.audit) == 0)
    }

    @Test func aLinkIsNeitherMadeNorSpentWhileItsLineCannotBeQueued() async throws {
        let keys = try Fixture.makeKeys()
        let path = NSTemporaryDirectory() + "presignd-audit-links-\(UUID().uuidString).sqlite"
        let yaml = LinkRoutesTests.yaml(jwksPath: keys.jwksPath, sqlitePath: path)
        let config = try await ConfigLoader.load(yaml: yaml, secrets: SecretSource(environment: Fixture.environment))
        let room = LineQueue.Bounds(access: 1 << 20, audit: 1 << 20, log: 1 << 20)
        let full = LineQueue.Bounds(access: 1 << 20, audit: 0, log: 1 << 20)
        let output = LineOutput(fd: -1, bounds: room, start: false)
        let audit = Logger(label: "presignd.audit", factory: { LineLogHandler(label: $0, output: output) })
        let service = PresignService(config: config, workers: 1, logger: audit, audit: audit, logOutput: output)
        let body = #"{"bucket":"reports","key":"public/a.txt","max_uses":1}"#
        let made = service.respond(Fixture.request("POST", "/v1/links", body: body, headers: Self.auth))
        #expect(made.status.code == 201)
        guard case .string(let id)? = try JSONValue.parse(made.body)["id"] else { Issue.record("no id"); return }

        output.setBounds(full)
        let refusedMake = service.respond(Fixture.request("POST", "/v1/links", body: body, headers: Self.auth))
        #expect(refusedMake.status.code == 503)
        #expect(Fixture.text(refusedMake) == Self.refused)
        let refusedOpen = service.respond(Fixture.request("GET", "/l/\(id)"))
        #expect(refusedOpen.status.code == 503)
        #expect(Fixture.text(refusedOpen) == Self.refused)
        #expect(Fixture.header(refusedOpen, "Cache-Control") == "no-store")
        #expect(output.dropped(.audit) == 0)

        // The one use was not spent by the refused redirect.
        output.setBounds(room)
        #expect(service.respond(Fixture.request("GET", "/l/\(id)")).status.code == 302)
        #expect(service.respond(Fixture.request("GET", "/l/\(id)")).status.code == 410)
    }
}
