import JSONKit
import Testing
import TestSupport

/// The writer's byte paths (a URL written as bytes, the word-at-a-time check for bytes that need escaping) against
/// its `String` path, on seeded strings with the escaped bytes at every offset of an 8-byte word.
struct JSONWriterBytesTests {
    @Test func bytesAreWrittenAsTheirStringIs() {
        var rng = SplitMix64(seed: 8)
        let pieces: [[UInt8]] = [[0x61], [0x2F], [0x22], [0x5C], [0x00], [0x1F], [0x20], [0x7F], [0x21], [0x5B], [0x5D],
                                 [0xC3, 0xA9], [0xF0, 0x9F, 0x98, 0x80], [0x0A]]
        for _ in 0..<5_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                // Mostly plain bytes, so a single escaped one lands anywhere in a word.
                bytes += Int.random(in: 0..<4, using: &rng) == 0 ? pieces.randomElement(using: &rng)! : [0x61]
            }
            let text = String(decoding: bytes, as: UTF8.self)
            var fromString = JSONWriter()
            fromString.beginObject()
            fromString.string("url", text)
            fromString.endObject()
            var fromBytes = JSONWriter()
            fromBytes.beginObject()
            fromBytes.string("url", utf8: bytes)
            fromBytes.endObject()
            #expect(fromBytes.bytes == fromString.bytes, "\(bytes)")
        }
    }

    @Test func plainStringIsWrittenInPlace() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.integer("n", 1)
        writer.plainString("at") { $0 += "2026-12-08T03:00:00Z".utf8 }
        writer.endObject()
        #expect(writer.text == #"{"n":1,"at":"2026-12-08T03:00:00Z"}"#)
    }
}
