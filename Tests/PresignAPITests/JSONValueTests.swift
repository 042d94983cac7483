import PresignAPI
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

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONValue.ParseError(message: "invalid UTF-8 in a string")) {
            try JSONValue.parse([0x22, 0xC3, 0x28, 0x22])
        }
    }
}
