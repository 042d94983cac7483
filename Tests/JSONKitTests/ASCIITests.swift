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
