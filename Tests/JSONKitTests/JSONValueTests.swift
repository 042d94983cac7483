import JSONKit
import Testing

/// The strict JSON reader behind the API's request bodies.
struct JSONValueTests {
    @Test func parsesTheRequestShapes() throws {
        let value = try JSONValue.parse(Array(#" {"a":"x\"y\\z\u00e9\ud83d\ude00","n":-12,"f":1.5,"e":1e3,"t":true,"z":null,"l":[1,[]],"o":{}} "#.utf8))
        #expect(value == .object([
            ("a", .string("x\"y\\zé😀")), ("n", .integer(-12)), ("f", .number(1.5)), ("e", .integer(1000)),
            ("t", .bool(true)), ("z", .null), ("l", .array([.integer(1), .array([])])), ("o", .object([])),
        ]))
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "duplicate member 'a'"),
        (#"{"a":"\ud800"}"#, "lone surrogate in a string"),
        (#"{"a":"\udc00x"}"#, "lone surrogate in a string"),
        ("{\"a\":\"tab\there\"}", "control character in a string"),
        (#"{"a":01}"#, "expected ',' or '}'"),
        (#"{"a":1,}"#, "expected a member name"),
        (#"[1 2]"#, "expected ',' or ']'"),
        (#"{"a":1} x"#, "unexpected data after the JSON value"),
        (#"{"a":tru}"#, "invalid literal"),
        (#"{"a":1e999}"#, "number out of range"),
        (#"{"a":-}"#, "invalid number"),
        (String(repeating: "[", count: 17) + String(repeating: "]", count: 17), "JSON nested too deeply"),
        ("", "unexpected end of JSON"),
    ])
    func refusesWhatIsNotStrictJSON(_ text: String, _ message: String) {
        #expect(throws: JSONValue.ParseError(message: message)) { try JSONValue.parse(Array(text.utf8)) }
    }

    /// Member names are their bytes: `jos\u00e9` and `jose\u0301` (one string to Swift's `==`) are two members, in
    /// a small object (scanned) and past the set threshold (hashed); the same bytes twice are one name, refused.
    @Test func namesAreTheirBytes() throws {
        let pair = #""jos\u00e9":1,"jose\u0301":2"#
        for filler in [0, 20] {
            let members = (0..<filler).map { "\"f\($0)\":0" } + [pair]
            let value = try JSONValue.parse(Array("{\(members.joined(separator: ","))}".utf8))
            guard case .object(let read) = value else { Issue.record("not an object"); continue }
            #expect(read.count == filler + 2)
            #expect(value["jos\u{e9}"] == .integer(1) && value["jose\u{301}"] == .integer(2))
            #expect(throws: JSONValue.ParseError(message: "duplicate member 'jos\u{e9}'")) {
                try JSONValue.parse(Array("{\(members.joined(separator: ",")),\"jos\\u00e9\":3}".utf8))
            }
        }
        var reader = JSONReader(Array("{\(pair)}".utf8))
        var object = try reader.beginObject(depth: 0)
        var names: [String] = []
        while let name = try reader.nextMember(&object) { names.append(name); try reader.skip(depth: object.depth) }
        #expect(names.count == 2 && !ASCII.same(names[0], names[1]))
    }

    /// `{"k0":0,"k1":1,…}` with `count` members, and optionally one more that repeats `k0` at the very end.
    static func wideObject(count: Int, duplicateAtEnd: Bool) -> [UInt8] {
        var text = "{"
        text.reserveCapacity(count * 16)
        for index in 0..<count {
            if index > 0 { text += "," }
            text += "\"k\(index)\":\(index)"
        }
        if duplicateAtEnd { text += ",\"k0\":-1" }
        return Array((text + "}").utf8)
    }

    /// A body of under 2 MiB with 100,000 members must not cost a worker 100,000² key comparisons.
    @Test func parsesAnObjectWithOneHundredThousandMembers() throws {
        let value = try JSONValue.parse(Self.wideObject(count: 100_000, duplicateAtEnd: false))
        guard case .object(let members) = value else {
            Issue.record("not an object")
            return
        }
        #expect(members.count == 100_000)
        #expect(members[99_999].0 == "k99999")
        #expect(members[99_999].1 == .integer(99_999))
        #expect(value["k50000"] == .integer(50_000))
    }

    @Test func refusesADuplicateAfterOneHundredThousandMembers() {
        #expect(throws: JSONValue.ParseError(message: "duplicate member 'k0'")) {
            try JSONValue.parse(Self.wideObject(count: 100_000, duplicateAtEnd: true))
        }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONValue.ParseError(message: "invalid UTF-8 in a string")) {
            try JSONValue.parse([0x22, 0xC3, 0x28, 0x22])
        }
    }
}
