import TestSupport

/// Seeded random request bodies for `IntentBytesDifferentialTests`: members of the presign, link and upload forms
/// (and unknown ones) in random order with values of the right and wrong types, random spacing, now and then a
/// top-level value that is no object, a repeated member or a byte mutation.
enum IntentBodyGenerator {
    /// The shared seeded generator (TestSupport): same seeds, same sequences.
    typealias Random = SplitMix64

    static let long = "\"" + String(repeating: "x", count: 1_100) + "\""
    static let overrides = ["content_disposition", "content_type", "cache_control", "content_language", "content_encoding", "expires", "x"]
    static let overrideValues = [#""inline""#, #""text/plain""#, #""*/*""#, #"" bad""#, #""a\u0000b""#, "1", "null", long]
    static let values: [String: [String]] = [
        "operation": [#""get""#, #""put""#, #""head""#, #""post_object""#, #""list_bucket""#, #""share_link""#, #""fly""#, "7", "null"],
        "bucket": [#""b""#, #""b""#, #""""#, #""b/c""#, #""my.bucket""#, "1", "[]", long],
        "key": [#""k""#, #""k""#, #""k/${filename}""#, #""k/${filename}.png""#, "5", long, #""caf\u00e9""#],
        "expires_in": ["60", "0", "1.5", #""60""#, "31536001", "604800", "1e3", "-1"],
        "content_type": [#""image/png""#, #""image/*""#, #""bad""#, "3", #""text/plain; charset=utf-8""#],
        "content_length": ["5", "-1", "6000000000", #""5""#, "5.5", "0"],
        "checksum_sha256": [#""LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=""#, #""AAAA""#, "1", #""LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ""#],
        "content_md5": [#""1B2M2Y8AsgTpgAmY7PhCfg==""#, #""1B2M2Y8AsgTpgAmY7PhCfh==""#, #""xx""#, "{}"],
        "backend": [#""main""#, "2", #""""#],
        "content_length_range": ["[0,10]", "[10,0]", "[-1,5]", "[1]", "[1,2,3]", #"[1,"2"]"#, "{}", "[1.5,2]", "[0, 1e3]"],
        "content_type_prefix": [#""image/""#, #""\u00e9""#, "4"],
        "max_uses": ["3", "0", "1000001", #""3""#, "2.0"],
        "checksum_algorithm": [#""SHA256""#, #""CRC32C""#, #""CRC32""#, #""MD5""#, "1", #""SHA256SHA256SHA256""#],
        "size": ["1"],
        "Bucket": [#""b""#],
    ]
    static let names = values.keys.sorted()

    static func space(_ random: inout Random) -> String { ["", "", " ", "\n\t"].randomElement(using: &random)! }

    static func response(_ random: inout Random) -> String {
        switch Int.random(in: 0..<10, using: &random) {
        case 0: return #""inline""#
        case 1: return "[]"
        case 2:
            // Every override, then more.
            let all = overrides.dropLast().map { "\"\($0)\":\"v\"" } + ["\"x\":\"v\""]
            return "{" + all.joined(separator: ",") + "}"
        default:
            let chosen = overrides.shuffled(using: &random).prefix(Int.random(in: 0...4, using: &random))
            return "{" + chosen.map { "\"\($0)\":" + overrideValues.randomElement(using: &random)! }.joined(separator: ",") + "}"
        }
    }

    static func member(_ name: String, _ random: inout Random) -> String {
        // Mostly the first (valid) value, so that whole bodies decode too.
        let choices = values[name] ?? []
        let value = name == "response" ? response(&random) : Int.random(in: 0..<4, using: &random) == 0 ? choices.randomElement(using: &random)! : choices[0]
        return space(&random) + "\"\(name)\"" + space(&random) + ":" + space(&random) + value + space(&random)
    }

    static func object(_ random: inout Random, likely: [String]) -> String {
        var chosen = likely.filter { _ in Int.random(in: 0..<5, using: &random) != 0 }
        chosen += (names + ["response", "response"]).shuffled(using: &random).prefix(Int.random(in: 0..<4, using: &random) == 0 ? 2 : 0)
        var seen: Set<String> = []
        // A repeated name now and then (a syntax error); otherwise each name once.
        chosen = chosen.filter { seen.insert($0).inserted || Int.random(in: 0..<30, using: &random) == 0 }
        return "{" + chosen.shuffled(using: &random).map { member($0, &random) }.joined(separator: ",") + "}"
    }

    static func value(_ random: inout Random, likely: [String]) -> String {
        switch Int.random(in: 0..<25, using: &random) {
        case 0: return "[1]"
        case 1: return #""x""#
        default: return object(&random, likely: likely)
        }
    }

    static func finish(_ text: String, _ random: inout Random, mutate: Bool) -> [UInt8] {
        var bytes = Array(text.utf8)
        guard mutate, !bytes.isEmpty else { return bytes }
        let position = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<3, using: &random) {
        case 0: bytes[position] = Array("{}[],:\"x1".utf8).randomElement(using: &random)!
        case 1: bytes.removeSubrange(position...)
        default: bytes.insert(contentsOf: Array(["\\ud800", "\u{1}", "1e999", ",", "}"].randomElement(using: &random)!.utf8), at: position)
        }
        return bytes
    }

    static func body(using random: inout Random, mutate: Bool) -> [UInt8] {
        let likely = Bool.random(using: &random) ? ["operation", "bucket", "key"] : ["bucket", "key"]
        return finish(value(&random, likely: likely), &random, mutate: mutate)
    }

    static func batch(using random: inout Random, mutate: Bool) -> [UInt8] {
        let count = Int.random(in: 0..<20, using: &random) == 0 ? 101 : Int.random(in: 0...4, using: &random)
        let items = (0..<count).map { _ in value(&random, likely: ["operation", "bucket", "key"]) }
        var members = ["\"requests\":[" + items.joined(separator: ",") + "]"]
        switch Int.random(in: 0..<12, using: &random) {
        case 0: members.append(#""x":1"#)
        case 1: members = [#""requests":{}"#]
        case 2: members.insert(#""x":1"#, at: 0)
        case 3: members = []
        default: break
        }
        return finish("{" + members.joined(separator: ",") + "}", &random, mutate: mutate)
    }
}
