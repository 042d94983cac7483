import JSONKit
import Testing

/// The one JSON writer: exact bytes for commas, nesting, escaping and whole values.
struct JSONWriterTests {
    @Test func membersAndElementsAreSeparatedByExactlyOneComma() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.string("a", "x")
        writer.key("b")
        writer.beginArray()
        writer.integer(1)
        writer.beginObject()
        writer.endObject()
        writer.beginArray()
        writer.endArray()
        writer.null()
        writer.endArray()
        writer.bool("c", true)
        writer.optionalString("d", nil)
        writer.integer("e", -9_223_372_036_854_775_807 as Int64)
        writer.endObject()
        #expect(writer.text == #"{"a":"x","b":[1,{},[],null],"c":true,"d":null,"e":-9223372036854775807}"#)
    }

    @Test func stringsEscapeQuotesBackslashesAndControlCharactersOnly() {
        #expect(JSONWriter.quoted("plain/é😀") == #""plain/é😀""#)
        #expect(JSONWriter.quoted("a\"b\\c\nd\re\tf\u{0}g\u{1f}h\u{7f}") == #""a\"b\\c\nd\re\tf\u0000g\u001fh"# + "\u{7f}\"")
    }

    @Test func aParsedValueIsWrittenBackInDocumentOrder() throws {
        let text = #"{"z":[1,-2,0.5,true,null,"s"],"a":{"b":{}},"e":[]}"#
        var writer = JSONWriter()
        writer.value(try JSONValue.parse(Array(text.utf8)))
        #expect(writer.text == text)
    }

    @Test func rawBytesTakeTheirPlaceInTheSequence() {
        var writer = JSONWriter()
        writer.beginArray()
        writer.raw(Array(#"{"k":1}"#.utf8))
        writer.raw(Array("2".utf8))
        writer.endArray()
        #expect(writer.text == #"[{"k":1},2]"#)
    }
}
