import Foundation
import JSONKit
import Testing
import TestSupport

/// The one base64 codec: RFC 4648's test vectors, its strict decoding rules, and seeded differential tests against
/// Foundation's codec for the standard alphabet.
struct Base64Tests {
    /// RFC 4648 §10.
    static let vectors: [(String, String, String)] = [
        ("", "", ""), ("f", "Zg==", "Zg"), ("fo", "Zm8=", "Zm8"), ("foo", "Zm9v", "Zm9v"), ("foob", "Zm9vYg==", "Zm9vYg"),
        ("fooba", "Zm9vYmE=", "Zm9vYmE"), ("foobar", "Zm9vYmFy", "Zm9vYmFy"),
    ]

    @Test func rfc4648VectorsEncodeAndDecode() {
        for (plain, standard, url) in Self.vectors {
            #expect(Base64.encode(Array(plain.utf8)) == standard)
            #expect(Base64.encode(Array(plain.utf8), .url) == url)
            #expect(Base64.decode(standard) == Array(plain.utf8))
            #expect(Base64.decode(url, .url) == Array(plain.utf8))
            var out: [UInt8] = Array("x".utf8)
            Base64.append(Array(plain.utf8), to: &out)
            #expect(out == Array(("x" + standard).utf8))
        }
    }

    @Test func theAlphabetsDifferOnlyInTheirLastTwoCharacters() {
        #expect(Base64.encode([0xFB, 0xFF, 0xBF]) == "+/+/")
        #expect(Base64.encode([0xFB, 0xFF, 0xBF], .url) == "-_-_")
        #expect(Base64.decode("+/+/", .url) == nil)
        #expect(Base64.decode("-_-_") == nil)
    }

    /// Every refusal is a spelling some decoder accepts: whitespace, missing or extra padding, padding in url,
    /// padding inside, non-zero unused bits, and the impossible length 4n + 1.
    @Test(arguments: [
        ("Zg", Base64.Alphabet.standard), ("Zg=", .standard), ("Zg===", .standard), ("Zm8", .standard), ("Zg==Zg==", .standard),
        ("Z===", .standard), ("Zh==", .standard), ("Zm9=", .standard), ("Zm9v\n", .standard), (" Zm9v", .standard),
        ("Zm 9v", .standard), ("Zm9vY", .standard), ("Zg==", .url), ("Zh", .url), ("Zm9", .url), ("Zm9vY", .url),
        ("Zm9v\r\n", .url), ("Z", .url), ("=", .standard), ("====", .standard), ("Zm8=\u{0}", .standard),
    ])
    func strictDecodingRefuses(_ text: String, _ alphabet: Base64.Alphabet) {
        #expect(Base64.decode(text, alphabet) == nil)
    }

    /// Seeded random bytes: the encoding is Foundation's, and decoding it gives the bytes back.
    @Test func encodingMatchesFoundation() {
        var random = SplitMix64(seed: 4648)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...70, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            let standard = Base64.encode(bytes)
            #expect(standard == Data(bytes).base64EncodedString())
            #expect(Base64.decode(standard) == bytes)
            let url = Base64.encode(bytes, .url)
            #expect(url == standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: ""))
            #expect(Base64.decode(url, .url) == bytes)
        }
    }

    /// Seeded random text from the alphabet, `=` and a space: whatever this decoder accepts Foundation accepts with
    /// the same bytes, and whatever Foundation accepts in its canonical spelling this decoder accepts too.
    @Test func decodingIsFoundationsRestrictedToCanonicalSpellings() {
        var random = SplitMix64(seed: 0xB64)
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= ".utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            var text = (0..<Int.random(in: 0...12, using: &random)).map { _ in characters.randomElement(using: &random)! }
            if Bool.random(using: &random) { text = text.filter { $0 != UInt8(ascii: "=") && $0 != UInt8(ascii: " ") } }
            if Bool.random(using: &random), text.count % 4 == 2 { text += Array("==".utf8) }
            let string = String(decoding: text, as: UTF8.self)
            let ours = Base64.decode(string)
            let foundation = Data(base64Encoded: string).map(Array.init)
            if let ours {
                accepted += 1
                #expect(foundation == ours, "\(string)")
            } else if let foundation {
                #expect(Base64.encode(foundation) != string, "\(string): canonical, yet refused")
            }
        }
        #expect(accepted > 500)
    }

    /// `decodedCount`, which builds nothing, accepts exactly what `decode` accepts and counts its bytes, in both
    /// alphabets (seeded text over both alphabets, `=`, a space and a non-ASCII byte).
    @Test func decodedCountIsTheDecodedBytesCount() {
        var random = SplitMix64(seed: 0xC0_0B64)
        let characters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_= \u{E9}".utf8)
        var accepted = 0
        for _ in 0..<20_000 {
            var text = (0..<Int.random(in: 0...50, using: &random)).map { _ in characters.randomElement(using: &random)! }
            if Bool.random(using: &random) { text = text.filter { $0 >= 0x30 && $0 < 0x80 } }
            if Bool.random(using: &random), text.count % 4 == 2 { text += Array("==".utf8) }
            let string = String(decoding: text, as: UTF8.self)
            for alphabet in [Base64.Alphabet.standard, .url] {
                let count = Base64.decodedCount(string, alphabet)
                #expect(count == Base64.decode(string, alphabet)?.count, "\(string)")
                if count != nil { accepted += 1 }
            }
        }
        #expect(accepted > 1_000)
        #expect(Base64.decodedCount("1B2M2Y8AsgTpgAmY7PhCfg==") == 16)
        #expect(Base64.decodedCount("1B2M2Y8AsgTpgAmY7PhCfh==") == nil)
    }
}
