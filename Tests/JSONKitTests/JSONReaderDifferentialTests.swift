import TestSupport
import JSONKit
import Testing

/// `JSONValue.parse` (a consumer of `JSONReader`) against the parser it replaced (`LegacyJSONParser`): seeded
/// random documents, valid and mutated, must give the same value or the same error text.
struct JSONReaderDifferentialTests {
    /// A document and what the reference makes of it.
    static func reference(_ bytes: [UInt8]) -> Result<JSONValue, JSONValue.ParseError> {
        Result { () throws(JSONValue.ParseError) in try LegacyJSONParser.parse(bytes) }
    }

    static func parsed(_ bytes: [UInt8]) -> Result<JSONValue, JSONValue.ParseError> {
        Result { () throws(JSONValue.ParseError) in try JSONValue.parse(bytes) }
    }

    @Test func validDocumentsParseAlike() {
        var random = SplitMix64(seed: 22)
        var generator = JSONDocumentGenerator()
        for _ in 0..<3_000 {
            let bytes = generator.document(using: &random)
            let expected = Self.reference(bytes)
            #expect(Self.parsed(bytes) == expected, "\(String(decoding: bytes, as: UTF8.self))")
        }
    }

    @Test func mutatedDocumentsFailAlike() {
        var random = SplitMix64(seed: 0x6279_7465_73)
        var generator = JSONDocumentGenerator()
        var failures = 0
        for _ in 0..<20_000 {
            var bytes = generator.document(using: &random)
            for _ in 0..<Int.random(in: 1...3, using: &random) { JSONDocumentGenerator.mutate(&bytes, using: &random) }
            let expected = Self.reference(bytes)
            if case .failure = expected { failures += 1 }
            #expect(Self.parsed(bytes) == expected, "\(bytes)")
        }
        // The mutations reach the errors, not only documents that stay valid.
        #expect(failures > 10_000)
    }

    /// `JSONReader.skip`, which builds no tree, accepts and refuses exactly what the reference does.
    @Test func skippingAgreesWithTheReference() {
        var random = SplitMix64(seed: 0x736B_6970)
        var generator = JSONDocumentGenerator()
        for round in 0..<20_000 {
            var bytes = generator.document(using: &random)
            if round % 4 != 0 {
                for _ in 0..<Int.random(in: 1...3, using: &random) { JSONDocumentGenerator.mutate(&bytes, using: &random) }
            }
            let skipped = Result { () throws(JSONValue.ParseError) in
                var reader = JSONReader(bytes)
                try reader.skip()
                try reader.finish()
            }
            let expected = Self.reference(bytes).map { _ in () }
            #expect(skipped.map { _ in 0 } == expected.map { _ in 0 }, "\(bytes)")
        }
    }

    /// Every error message the reference has is reached by the mutated documents.
    @Test func mutationsReachEveryError() {
        var random = SplitMix64(seed: 7)
        var generator = JSONDocumentGenerator()
        var messages: Set<String> = []
        for _ in 0..<20_000 {
            var bytes = generator.document(using: &random)
            for _ in 0..<Int.random(in: 1...3, using: &random) { JSONDocumentGenerator.mutate(&bytes, using: &random) }
            if case .failure(let error) = Self.reference(bytes) { messages.insert(error.message) }
        }
        let all: Set<String> = [
            "unexpected end of JSON", "unexpected character in JSON", "invalid literal", "JSON nested too deeply",
            "expected a member name", "duplicate member", "expected ':'", "expected ',' or '}'", "expected ',' or ']'",
            "short \\u escape", "invalid \\u escape", "invalid UTF-8 in a string", "control character in a string",
            "lone surrogate in a string", "invalid escape in a string", "unterminated string", "invalid number",
            "number out of range", "unexpected data after the JSON value",
        ]
        let reached = Set(messages.map { $0.hasPrefix("duplicate member") ? "duplicate member" : $0 })
        #expect(all.subtracting(reached).isEmpty, "not reached: \(all.subtracting(reached).sorted())")
    }
}
