import Foundation
import Testing

/// PresignConfig is configuration only (decoding and validation): it produces plain values and holds no runtime
/// state. Read from the package and the sources, so a cell, a per-worker row or a lock moved back into it fails
/// here (SwiftPM lets a module import what its dependencies depend on, so the build alone would not catch an
/// `import UVLoop`).
struct LayeringTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sources(_ module: String) throws -> [(name: String, text: String)] {
        let directory = root.appendingPathComponent("Sources/\(module)")
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
            .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
        return try files.map { ($0.path.replacingOccurrences(of: root.path + "/", with: ""), try String(contentsOf: $0, encoding: .utf8)) }
            .sorted { $0.name < $1.name }
    }

    /// The modules a file imports (`import X`, `internal import X`, ...).
    static func imports(_ text: String) -> Set<String> {
        var out: Set<String> = []
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard let at = words.firstIndex(of: "import"), at + 1 < words.count,
                words[..<at].allSatisfy({ ["internal", "private", "public", "fileprivate", "package", "@preconcurrency"].contains($0) })
            else { continue }
            out.insert(String(words[at + 1]))
        }
        return out
    }

    /// The dependencies Package.swift gives a target (its names and products), read from the manifest's text.
    static func dependencies(of target: String) throws -> Set<String> {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        guard let start = manifest.range(of: "name: \"\(target)\",") else { return [] }
        let rest = manifest[start.upperBound...]
        guard let open = rest.range(of: "dependencies: ["), let close = rest.range(of: "],", range: open.upperBound..<rest.endIndex) else { return [] }
        let list = rest[open.upperBound..<close.lowerBound]
        var names: Set<String> = []
        var scanner = Substring(list)
        while let quote = scanner.firstIndex(of: "\"") {
            let after = scanner[scanner.index(after: quote)...]
            guard let end = after.firstIndex(of: "\"") else { break }
            names.insert(String(after[..<end]))
            scanner = after[after.index(after: end)...]
        }
        return names
    }

    static let allowed: Set<String> = ["Foundation", "Crypto", "JSONKit", "JWTKit", "PresignCore", "RedisClient", "S3Signing", "Yams"]

    @Test func presignConfigImportsNoLoopAndNoLock() throws {
        let files = try Self.sources("PresignConfig")
        #expect(files.count > 10)
        for file in files {
            let extra = Self.imports(file.text).subtracting(Self.allowed)
            #expect(extra.isEmpty, "\(file.name) imports \(extra.sorted())")
        }
        let declared = try Self.dependencies(of: "PresignConfig")
        #expect(declared.contains("PresignCore"))
        #expect(!declared.contains("UVLoop"), "Package.swift gives PresignConfig UVLoop")
    }

    @Test func presignConfigHoldsNoRuntimeState() throws {
        for file in try Self.sources("PresignConfig") {
            for word in ["PerWorker", "LoopLocal", "Locked<", "Mutex", "Atomic<", "CredentialCell", "ConfigStore", "EventLoop"] {
                #expect(!file.text.contains(word), "\(file.name) names \(word)")
            }
        }
    }

    @Test func theImportParserReadsEachForm() {
        #expect(Self.imports("import UVLoop\ninternal import CUV\n@preconcurrency import Foundation\n// import Not\nlet importer = 1")
            == ["UVLoop", "CUV", "Foundation"])
    }
}
