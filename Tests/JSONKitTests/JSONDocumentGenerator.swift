import TestSupport
import JSONKit

/// Seeded random JSON documents for the differential tests: nested objects and arrays (now and then deeper than
/// `JSONValue.maxDepth`), strings with escapes, surrogate pairs and raw UTF-8, numbers in every spelling, random
/// whitespace; and byte mutations that turn them into every kind of error.
struct JSONDocumentGenerator {
    static let names = ["a", "b", "bucket", "key", "response", "K", "\u{212A}", "caf\u{E9}", "cafe\u{301}", "x y", "\u{1F600}"]
    static let numbers = [
        "0", "-0", "1", "-12", "007", "1.5", "-0.25", "1e3", "1E+2", "2e-3", "1.0", "9007199254740993",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "1e999", "-1e400", "1.e3", "0.1e1",
        "123456789012345678901234567890", "4.5e15", "9.1e15",
    ]
    static let strings = [
        "", "x", "plain text", "caf\u{E9}", "\u{1F600}", "tab\there", "q\"uote", "back\\slash", "\u{7F}", "\u{2028}",
        "0123456789abcdefXYZ",
    ]
    static let interesting: [UInt8] = Array("{}[],:\" \\/0123456789-+.eEtrufalsn\tu".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]

    var depthLimit = 3

    mutating func document(using random: inout SplitMix64) -> [UInt8] {
        depthLimit = Int.random(in: 0..<40, using: &random) == 0 ? 18 : Int.random(in: 1...4, using: &random)
        var out: [UInt8] = []
        space(&out, &random)
        value(&out, depth: 0, &random)
        space(&out, &random)
        return out
    }

    func space(_ out: inout [UInt8], _ random: inout SplitMix64) {
        guard Bool.random(using: &random) else { return }
        for _ in 0..<Int.random(in: 1...3, using: &random) { out.append([0x20, 0x0A, 0x0D, 0x09].randomElement(using: &random)!) }
    }

    func value(_ out: inout [UInt8], depth: Int, _ random: inout SplitMix64) {
        let nested = depth < depthLimit
        switch Int.random(in: 0..<(nested ? 8 : 6), using: &random) {
        case 0: out += Array("null".utf8)
        case 1: out += Array((Bool.random(using: &random) ? "true" : "false").utf8)
        case 2, 3: out += Array(Self.numbers.randomElement(using: &random)!.utf8)
        case 4, 5: string(&out, Self.strings.randomElement(using: &random)!, &random)
        case 6:
            out.append(UInt8(ascii: "["))
            for index in 0..<Int.random(in: 0...3, using: &random) {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                space(&out, &random)
                value(&out, depth: depth + 1, &random)
                space(&out, &random)
            }
            out.append(UInt8(ascii: "]"))
        default:
            out.append(UInt8(ascii: "{"))
            var used: [String] = []
            for _ in 0..<Int.random(in: 0...4, using: &random) {
                let name = Self.names.randomElement(using: &random)!
                // Mostly unique names; now and then a repeat, which the parsers refuse.
                if used.contains(name), Int.random(in: 0..<8, using: &random) != 0 { continue }
                if !used.isEmpty { out.append(UInt8(ascii: ",")) }
                used.append(name)
                space(&out, &random)
                string(&out, name, &random)
                space(&out, &random)
                out.append(UInt8(ascii: ":"))
                space(&out, &random)
                value(&out, depth: depth + 1, &random)
                space(&out, &random)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// `text` as a JSON string, each character raw or escaped at random.
    func string(_ out: inout [UInt8], _ text: String, _ random: inout SplitMix64) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            let escape = scalar.value < 0x20 || scalar == "\"" || scalar == "\\" || Int.random(in: 0..<4, using: &random) == 0
            guard escape else {
                out += Array(String(scalar).utf8)
                continue
            }
            switch scalar {
            case "\"": out += Array(#"\""#.utf8)
            case "\\": out += Array(#"\\"#.utf8)
            case "\t" where Bool.random(using: &random): out += Array(#"\t"#.utf8)
            case "/": out += Array(#"\/"#.utf8)
            default:
                for unit in String(scalar).utf16 { out += Array("\\u".utf8) + Array(hex4(unit, upper: Bool.random(using: &random)).utf8) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    func hex4(_ unit: UInt16, upper: Bool) -> String {
        let digits = String(unit, radix: 16, uppercase: upper)
        return String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// One byte replaced, inserted or deleted, a fragment spliced in, or the document cut short.
    static func mutate(_ bytes: inout [UInt8], using random: inout SplitMix64) {
        let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<6, using: &random) {
        case 0 where !bytes.isEmpty: bytes[position] = interesting.randomElement(using: &random)!
        case 1: bytes.insert(interesting.randomElement(using: &random)!, at: position)
        case 2 where !bytes.isEmpty: bytes.remove(at: position)
        case 3: bytes.removeSubrange(position..<bytes.count)
        case 4:
            let fragments = [#"\ud800"#, #"\udc00"#, #"\ud83d\ude00"#, #"\u12"#, #"\uZZZZ"#, #"\x"#, "\"a\":1,\"a\":2", "[[[[[[[[[[[[[[[[[[", "1e999", "tru"]
            bytes.insert(contentsOf: Array(fragments.randomElement(using: &random)!.utf8), at: position)
        default:
            bytes.append(interesting.randomElement(using: &random)!)
        }
    }
}
