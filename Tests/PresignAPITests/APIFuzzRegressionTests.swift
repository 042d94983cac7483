import APIFuzzHarness
import Foundation
import Testing

/// Inputs that `make fuzz-api` found or that seed its corpus, replayed through the same harness on every test run.
/// The harness traps when an invariant breaks (a status outside the documented set, a non-JSON answer, a URL for a
/// bucket or key no rule allows).
struct APIFuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    @Test func regressionDirectoryHoldsTheSeeds() {
        #expect(Self.inputs.count >= 6)
    }

    @Test func everyInputReplaysWithoutBreakingAnInvariant() async throws {
        let service = try await APIFuzzHarness.makeService()
        for name in Self.inputs {
            let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
            data.withUnsafeBytes { APIFuzzHarness.run($0, service: service) }
        }
    }
}
