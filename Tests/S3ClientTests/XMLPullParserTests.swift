@testable import S3Client
import Testing

/// The bounded pull parser under S3's documents: each bound's exact error (one byte under it still reads), the
/// XML it accepts (references, CDATA, comments, processing instructions, prefixes), what it refuses, and bounds
/// that hold while the bytes arrive.
struct XMLPullParserTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func error(_ text: String) -> String? {
        do {
            _ = try S3ErrorDocument(xml: bytes(text))
            return nil
        } catch {
            return error.message
        }
    }

    static func code(_ inner: String) throws -> String { try S3ErrorDocument(xml: bytes("<Error><Code>" + inner + "</Code></Error>")).code }

    @Test func elementCount() throws {
        let atLimit = "<Error><Code>X</Code>" + String(repeating: "<a/>", count: 249_998) + "</Error>"
        #expect(try S3ErrorDocument(xml: Self.bytes(atLimit)).code == "X")
        let over = "<Error><Code>X</Code>" + String(repeating: "<a/>", count: 249_999) + "</Error>"
        #expect(Self.error(over) == "XML with more than 250000 elements")
    }

    @Test func depth() throws {
        #expect(Self.error(String(repeating: "<a>", count: 33) + String(repeating: "</a>", count: 33)) == "XML nested deeper than 32 levels")
        #expect(Self.error(String(repeating: "<a>", count: 32) + String(repeating: "</a>", count: 32)) == "expected <Error>, got <a>")
    }

    @Test func textOfOneElement() throws {
        #expect(try Self.code(String(repeating: "x", count: 65_536)).utf8.count == 65_536)
        #expect(Self.error("<Error><Code>" + String(repeating: "x", count: 65_537) + "</Code></Error>") == "text over 65536 bytes in <Code>")
        // Elements that are not kept are bounded the same way.
        #expect(Self.error("<Error><HostId>" + String(repeating: "x", count: 65_537) + "</HostId></Error>") == "text over 65536 bytes in <HostId>")
        // In pieces: runs split by comments and CDATA add up.
        let pieces = String(repeating: "x", count: 40_000) + "<!-- -->" + "<![CDATA[" + String(repeating: "y", count: 30_000) + "]]>"
        #expect(Self.error("<Error><Code>" + pieces + "</Code></Error>") == "text over 65536 bytes in <Code>")
        // Whitespace between children is not text of the parent, but one run of it is still bounded.
        let spaced = "<Error>" + String(repeating: "\n  <a/>", count: 20_000) + "<Code>X</Code></Error>"
        #expect(try S3ErrorDocument(xml: Self.bytes(spaced)).code == "X")
        #expect(Self.error("<Error>" + String(repeating: " ", count: 65_537) + "</Error>") == "text over 65536 bytes in <Error>")
        #expect(Self.error(String(repeating: " ", count: 65_537) + "<Error/>") == "text over 65536 bytes outside the root element")
    }

    @Test func namesAttributesAndTags() throws {
        let name = String(repeating: "n", count: 256)
        #expect(Self.error("<Error><\(name)/></Error>") == nil)
        #expect(Self.error("<Error><\(name)n/></Error>") == "an XML name over 256 bytes")
        let sixteen = (1...16).map { " a\($0)=\"v\"" }.joined()
        #expect(Self.error("<Error\(sixteen)/>") == nil)
        #expect(Self.error("<Error\(sixteen) a17='v'/>") == "an XML element with more than 16 attributes")
        #expect(Self.error("<Error a=\"" + String(repeating: "v", count: 4096) + "\"/>") == nil)
        #expect(Self.error("<Error a=\"" + String(repeating: "v", count: 4097) + "\"/>") == "an XML attribute value over 4096 bytes")
        // `<Error`, the spaces and `>`: 65,536 bytes in all, then one more.
        #expect(Self.error("<Error" + String(repeating: " ", count: 65_529) + ">" + "</Error>") == nil)
        #expect(Self.error("<Error" + String(repeating: " ", count: 65_530) + ">" + "</Error>") == "an XML tag over 65536 bytes")
        #expect(Self.error("<Error><!--" + String(repeating: "c", count: 65_537) + "--></Error>") == "an XML comment over 65536 bytes")
        #expect(Self.error("<?pi " + String(repeating: "c", count: 65_537) + "?><Error/>") == "an XML processing instruction over 65536 bytes")
    }

    @Test func referencesCDATACommentsAndPrefixes() throws {
        #expect(try Self.code("&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#x1F600;") == "<>&\"'AB😀")
        #expect(try Self.code("a<![CDATA[<b>&amp;]]>c") == "a<b>&amp;c")
        #expect(try Self.code("a<!-- <Code>no</Code> -->b<?pi x?>c") == "abc")
        #expect(try Self.code("line\r\nnext\rlast&#13;") == "line\nnext\nlast\r")
        let prefixed = #"<?xml version="1.0" encoding="UTF-8"?><s3:Error xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Code>X</s3:Code></s3:Error>"#
        #expect(try S3ErrorDocument(xml: Self.bytes(prefixed)).code == "X")
        #expect(try S3ErrorDocument(xml: [0xEF, 0xBB, 0xBF] + Self.bytes("<Error><Code>BOM</Code></Error>")).code == "BOM")
        let acl = #"<AccessControlPolicy><AccessControlList><Grant><Grantee xmlns:xsi="x" xsi:type="Group" other='a&amp;b&#10;c'><URI>u</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"#
        let grant = try AccessControlPolicy(xml: Self.bytes(acl)).grants[0]
        #expect(grant.granteeType == "Group" && grant.uri == "u" && grant.permission == "READ")
        let root = try S3XML.read(Self.bytes(acl), AccessControlPolicy.schema)
        #expect(root.child("AccessControlList")?.child("Grant")?.child("Grantee")?.attributes == ["type": "Group", "other": "a&b\nc"])
    }

    @Test(arguments: [
        "<Error><Code>&foo;</Code></Error>", "<Error><Code>&#0;</Code></Error>", "<Error><Code>&#xD800;</Code></Error>",
        "<Error><Code>a & b</Code></Error>", "<Error><Code>&#x0000000041;</Code></Error>", "<Error><Code>X</Error></Code>",
        "<Error/><Error/>", "<Error/>text", "text<Error/>", "<Error a='1' a='2'/>", "<Error a='<'/>", "<Error a=1/>",
        "<Error><Code>\u{1}</Code></Error>", "<Error><1a/></Error>", "<![CDATA[x]]><Error/>", "<Error></Error >x",
        "</Error>", "<Error", "<Error><!-- x", "<Error><Code>\u{FF}</Code></Error>",
    ])
    func notWellFormed(_ text: String) {
        let bytes = text == "<Error><Code>\u{FF}</Code></Error>" ? Array("<Error><Code>".utf8) + [0xFF] + Array("</Code></Error>".utf8) : Self.bytes(text)
        #expect(throws: S3XML.ParseError(message: "not well-formed XML")) { try S3ErrorDocument(xml: bytes) }
    }

    @Test func emptyAndDoctype() {
        #expect(Self.error("") == "empty XML document")
        #expect(Self.error(" <!-- only a comment --> ") == "empty XML document")
        #expect(Self.error("<Error><!DOCTYPE x></Error>") == "XML with a DOCTYPE is refused")
    }

    /// Fed one byte at a time, a bound fails on the byte that crosses it, and the parser holds no more than the
    /// piece of markup being read.
    @Test func boundsHoldWhileTheBytesArrive() throws {
        let prefix = Self.bytes("<ListPartsResult>")
        let element = Self.bytes("<a/>")
        var limits = XMLPullParser.Limits()
        limits.elements = 1000
        var reader = S3XML.Reader(schema: ListPartsResult.schema, limits: limits)
        var fed = 0
        var failure: S3XML.ParseError?
        var mostPending = 0
        let document = prefix + Array([[UInt8]](repeating: element, count: 1010).joined())
        for byte in document {
            fed += 1
            do {
                try [byte].withUnsafeBytes { try reader.append($0) }
            } catch {
                failure = error as? S3XML.ParseError
                break
            }
            mostPending = max(mostPending, reader.pendingBytes)
        }
        #expect(failure == S3XML.ParseError(message: "XML with more than 1000 elements"))
        // The 1,000th `<a/>` (the root is the first element) ends at this byte.
        #expect(fed == prefix.count + 1000 * element.count)
        #expect(mostPending < prefix.count)

        // A comment that never ends is refused as soon as it is over the bound, whatever the piece size.
        var comment = S3XML.Reader(schema: S3ErrorDocument.schema)
        try comment.append(Self.bytes("<Error><!--"))
        var commentBytes = 0
        #expect(throws: S3XML.ParseError(message: "an XML comment over 65536 bytes")) {
            while true {
                try [UInt8](repeating: 0x63, count: 7).withUnsafeBytes { try comment.append($0) }
                commentBytes += 7
            }
        }
        #expect(commentBytes + 7 > 65_536 + 3 && commentBytes <= 65_536 + 3)
        #expect(comment.pendingBytes <= 65_536 + 4 + 3 + 7)
    }

    /// The events themselves, for a document that uses every construct.
    @Test func events() throws {
        var parser = XMLPullParser()
        parser.append(Self.bytes(#"<?xml version="1.0"?><r a="1&amp;"><b/>t&lt;<![CDATA[c]]><!--x--></r>"#))
        parser.end()
        var events: [XMLPullParser.Event] = []
        while true {
            let event = try parser.next()
            events.append(event)
            if event == .finished || event == .needMore { break }
        }
        #expect(events == [
            .start(ArraySlice("r".utf8), [XMLPullParser.Attribute(name: ArraySlice("a".utf8), value: ArraySlice("1&amp;".utf8))]),
            .start(ArraySlice("b".utf8), []), .end, .text(ArraySlice("t&lt;".utf8)), .cdata(ArraySlice("c".utf8)), .end, .finished,
        ])
    }
}
