import JSONKit
import Testing
import TestSupport

/// Percent-decoding: exact cases, and a seeded differential run against a byte-at-a-time reference.
struct PercentDecodeTests {
    @Test(arguments: [
        ("abc", "abc"), ("a%20b", "a b"), ("%41%42", "AB"), ("a+b", "a+b"), ("%e2%82%ac", "€"), ("", ""),
    ])
    func decodes(_ text: String, _ expected: String) {
        #expect(ASCII.percentDecode(text) == expected)
        #expect(ASCII.percentDecode(Substring(text)) == expected)
    }

    @Test(arguments: ["%", "%4", "a%", "%zz", "%4g", "%ff", "%c3", "%c3%28"])
    func refuses(_ text: String) {
        #expect(ASCII.percentDecode(text) == nil)
    }

    @Test func plusAsSpaceOnlyWhenAsked() {
        #expect(ASCII.percentDecode("a+b%2B", plusAsSpace: true) == "a b+")
        #expect(ASCII.percentDecode("a+b%2B") == "a+b+")
    }

    static func reference(_ text: String, plusAsSpace: Bool) -> String? {
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var i = 0
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 0x30...0x39: b - 0x30
            case 0x41...0x46: b - 0x37
            case 0x61...0x66: b - 0x57
            default: nil
            }
        }
        while i < bytes.count {
            if bytes[i] == 0x25 {
                guard i + 2 < bytes.count else { return nil }
                guard let h = hex(bytes[i + 1]), let l = hex(bytes[i + 2]) else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(plusAsSpace && bytes[i] == 0x2B ? 0x20 : bytes[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }

    @Test func agreesWithAReferenceOnSeededRandomText() {
        var random = SplitMix64(seed: 0x9E37_79B9_7F4A_7C15)
        let alphabet = Array("ab%+2Fc3e8AZ/".unicodeScalars)
        var disagreements = 0
        for _ in 0..<5000 {
            var text = ""
            for _ in 0..<Int(random.next() % 12) { text.unicodeScalars.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
            for plus in [false, true] where ASCII.percentDecode(text, plusAsSpace: plus) != Self.reference(text, plusAsSpace: plus) {
                disagreements += 1
            }
        }
        #expect(disagreements == 0)
    }
}
