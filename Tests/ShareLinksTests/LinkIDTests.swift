import Foundation
import Testing
@testable import ShareLinks
import TestSupport

@Suite struct LinkIDTests {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    @Test func generatedIdsAre32Base64URLCharactersAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<2000 {
            let id = LinkID.generate()
            #expect(id.text.utf8.count == 32)
            #expect(id.text.utf8.allSatisfy { Self.alphabet.contains($0) })
            #expect(LinkID(id.text) == id)
            #expect(id.digest.count == 32)
            #expect(id.logPrefix == String(id.text.prefix(8)))
            seen.insert(id.text)
        }
        #expect(seen.count == 2000)
    }

    @Test func knownBytesEncodeAsRFC4648Base64URL() {
        // 24 bytes 0xfb 0xff 0xbf repeated: standard base64 "+/+/" becomes "-_-_" in base64url.
        let raw = [UInt8](repeating: 0, count: 24).enumerated().map { [0xFB, 0xFF, 0xBF][$0.offset % 3] as UInt8 }
        let id = LinkID(raw: raw)
        #expect(id.text == String(repeating: "-_-_", count: 8))
        #expect(Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_") == id.text)
    }

    /// Differential: every 32-character base64url string parses, and re-encodes to itself (one spelling per id);
    /// every other string is refused.
    @Test func parserAcceptsExactlyThe32CharacterBase64URLStrings() {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("LinkIDTests seed \(seed)")
        var rng = SplitMix64(seed: seed)
        let hostile: [UInt8] = Array("=+/.%\0 \n\t~é".utf8) + [0xFF, 0xC3, 0x80]
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &rng)
            var bytes = (0..<length).map { _ in Self.alphabet.randomElement(using: &rng)! }
            if Bool.random(using: &rng), !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &rng)] = hostile.randomElement(using: &rng)!
            }
            let text = String(decoding: bytes, as: UTF8.self)
            let valid = text.utf8.count == 32 && text.utf8.allSatisfy { Self.alphabet.contains($0) }
            let parsed = LinkID(text)
            #expect((parsed != nil) == valid, "seed \(seed): \(text.debugDescription)")
            if let parsed { #expect(parsed.text == text) }
        }
    }

    @Test func edgeCasesAreRefused() {
        let good = String(repeating: "A", count: 32)
        #expect(LinkID(good) != nil)
        for bad in ["", String(repeating: "A", count: 31), String(repeating: "A", count: 33), String(repeating: "A", count: 31) + "=",
                    String(repeating: "A", count: 31) + "+", String(repeating: "A", count: 31) + "/", String(repeating: "A", count: 30) + "%41",
                    String(repeating: "A", count: 10_000), String(repeating: "é", count: 16)] {
            #expect(LinkID(bad) == nil, "\(bad.prefix(40))")
        }
    }
}
