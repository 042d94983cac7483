import JSONKit
import Testing

/// Token bytes, hex and percent-decoding, checked against their definitions over every byte.
struct ASCIITests {
    @Test func tokenBytesAreExactlyRFC9110Tchar() {
        let tchar = Set(Array("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".utf8))
        for byte in UInt8.min...UInt8.max { #expect(ASCII.isTokenByte(byte) == tchar.contains(byte), "byte \(byte)") }
    }

    @Test func hexValuesAndDigitsRoundTrip() {
        for nibble in UInt8(0)...15 { #expect(ASCII.hexValue(ASCII.hexDigit(nibble)) == nibble) }
        #expect(ASCII.hexValue(UInt8(ascii: "F")) == 15)
        #expect(ASCII.hexValue(UInt8(ascii: "g")) == nil)
    }

    @Test(arguments: [
        ("a%20b", false, "a b"), ("a+b", false, "a+b"), ("a+b", true, "a b"), ("%C3%A9", false, "é"), ("%c3%a9", false, "é"),
    ])
    func percentDecodingDecodesEscapes(_ input: String, _ plus: Bool, _ expected: String) {
        #expect(ASCII.percentDecode(input, plusAsSpace: plus) == expected)
    }

    @Test(arguments: ["%", "%4", "%zz", "%C3", "%FF"])
    func percentDecodingRefusesBadEscapesAndInvalidUTF8(_ input: String) {
        #expect(ASCII.percentDecode(input) == nil)
    }
}

/// The byte search used by the media-type checks, on strings and substrings (contiguous and not).
struct ContainsASCIITests {
    @Test func findsANeedleAnywhereAndOnlyWhenWhole() {
        #expect("svg+xml".containsASCII("xml"))
        #expect("xhtml".containsASCII("html"))
        #expect("html".containsASCII("html"))
        #expect(!"htm".containsASCII("html"))
        #expect(!"png".containsASCII("xml"))
        #expect("anything".containsASCII(""))
        #expect("x-javascript"[...].dropFirst(2).containsASCII("script"))
        #expect(!"".containsASCII("x"))
    }
}

/// The one trim: SP, HT, CR and LF at either end, nothing else.
struct ASCIITrimTests {
    @Test(arguments: [
        (" a b ", "a b"), ("\t\r\n a\tb \r\n", "a\tb"), ("", ""), (" \t\r\n", ""), ("x", "x"), ("\u{0B}x\u{0C}", "\u{0B}x\u{0C}"),
        ("\u{A0}x\u{A0}", "\u{A0}x\u{A0}"), ("é ", "é"), (" \u{2028}", "\u{2028}"),
    ])
    func trimsOnlyASCIIWhitespace(_ input: String, _ expected: String) {
        #expect(ASCII.trimmed(input[...]) == expected)
        #expect(ASCII.trimmed(Array(input.utf8)[...]) == Array(expected.utf8)[...])
    }

    @Test func spaceIsExactlyFourBytes() {
        for byte in UInt8.min...UInt8.max { #expect(ASCII.isSpace(byte) == [0x20, 0x09, 0x0D, 0x0A].contains(byte), "byte \(byte)") }
    }
}
