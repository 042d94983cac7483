import Foundation
import HTTPFuzzHarness
import HTTPServer
import Testing

/// Inputs that `make fuzz` found or that seed its corpus, replayed through the same harness on every test run.
/// The harness traps when an invariant breaks; each case also checks what the connection core answered.
struct FuzzRegressionTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("FuzzRegressions")

    static var inputs: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { !$0.hasPrefix(".") && $0 != "README.md" }.sorted()
    }

    @Test func regressionDirectoryIsNotEmpty() {
        #expect(Self.inputs.count >= 1)
    }

    @Test(arguments: inputs)
    func replay(_ name: String) throws {
        let data = try Data(contentsOf: Self.directory.appendingPathComponent(name))
        data.withUnsafeBytes { HTTPFuzzHarness.run($0) }
    }
}
