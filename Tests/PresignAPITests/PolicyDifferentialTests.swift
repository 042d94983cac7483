import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore
import TestSupport

/// Random rules and random requests through the real `PresignService`; every artefact it signs is taken apart the
/// way S3 would read it (URL, signed headers, POST policy conditions), and every request S3 would then accept must
/// be inside what one rule of the caller allows. The oracle below is written from the rules' documented meaning,
/// not from `PolicyEngine`, so the two disagree exactly where a grant is wider than its rule.
///
/// The seed is printed as `PolicyDifferentialTests seed=0x…`; set `PRESIGND_POLICY_SEED` (hex or decimal) to
/// replay one run.
struct PolicyDifferentialTests {
    /// 3,000 requests: about 1.5 s in a debug build.
    static let worlds = 120
    static let requestsPerWorld = 25

    @Test func everySignedArtefactStaysInsideTheRuleThatAllowedIt() async throws {
        let seed = Self.seed()
        print("PolicyDifferentialTests seed=0x\(String(seed, radix: 16)) (replay with PRESIGND_POLICY_SEED=0x\(String(seed, radix: 16)))")
        var random = SplitMix64(seed: seed)
        var stats = Stats()
        var violations: [String] = []
        var tally: [String: Int] = [:]
        for world in 0..<Self.worlds {
            var generated = World.random(&random)
            let (config, rules) = try await generated.load(seed: seed, world: world)
            generated.rules = rules
            let service = Fixture.service(config)
            let token = try await Fixture.hs256Token(Fixture.claims(sub: generated.sub, iss: "https://hs.example.com", aud: "app"))
            let oracle = Oracle(rules: rules, sub: generated.sub, now: Int64(Fixture.now))
            for index in 0..<Self.requestsPerWorld {
                let request = RandomRequest.random(&random, world: generated)
                let response = service.respond(Fixture.request(
                    "POST", "/v1/presign", body: request.json, headers: [("Authorization", "Bearer \(token)")]))
                stats.count(response.status.code)
                guard response.status.code == 200 else { continue }
                let problems = oracle.check(response.body, request: request, stats: &stats)
                for problem in problems {
                    let kind = Self.kind(of: problem)
                    tally[kind, default: 0] += 1
                    guard tally[kind]! <= 2 else { continue }
                    violations.append("seed 0x\(String(seed, radix: 16)) world \(world) request \(index)\n  rules: \(generated.rulesYAML)\n  request: \(request.json)\n  \(problem)")
                }
            }
        }
        print("PolicyDifferentialTests: \(stats)")
        let kinds = tally.keys.sorted().map { "\($0): \(tally[$0]!)" }.joined(separator: ", ")
        #expect(violations.isEmpty, "grants wider than their rule (\(kinds)); up to two of each:\n\(violations.joined(separator: "\n"))")
        // The run must have exercised each kind of artefact, or it proves nothing.
        #expect(stats.urls > 300)
        #expect(stats.forms >= 25)
        #expect(stats.filenameForms >= 5)
        #expect(stats.listings >= 8)
        #expect(stats.denied > 300)
    }

    /// What kind of widening a problem is, from the oracle's reasons (`rule 1: content type …; rule 2: operation`).
    static func kind(of problem: String) -> String {
        guard let range = problem.range(of: "every rule: ") ?? problem.range(of: " bytes: ") ?? problem.range(of: "any size: ") else {
            return "malformed"
        }
        let reasons = problem[range.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "; ")
        let words = reasons.compactMap { reason -> String? in
            guard let colon = reason.range(of: ": ") else { return nil }
            let words = reason[colon.upperBound...].split(separator: " ")
            return words.prefix(["every", "content", "response", "dot"].contains(words.first ?? "") ? 2 : 1).joined(separator: " ")
        }
        return Set(words.filter { $0 != "operation" && !$0.hasPrefix("policy") }).sorted().joined(separator: "+")
    }

    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["PRESIGND_POLICY_SEED"] {
            if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return value }
            if let value = UInt64(text) { return value }
        }
        return UInt64.random(in: 0...UInt64.max)
    }
}

struct Stats: CustomStringConvertible {
    var statuses: [Int: Int] = [:]
    var urls = 0
    var forms = 0
    var filenameForms = 0
    var listings = 0
    var denied: Int { statuses[403, default: 0] }

    mutating func count(_ status: Int) { statuses[status, default: 0] += 1 }

    var description: String {
        let codes = statuses.keys.sorted().map { "\($0): \(statuses[$0]!)" }.joined(separator: ", ")
        return "\(codes); urls \(urls), forms \(forms) (\(filenameForms) with ${filename}), bucket-wide \(listings)"
    }
}
