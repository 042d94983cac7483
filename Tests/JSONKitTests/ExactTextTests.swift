import JSONKit
import Testing

/// Texts from a client are told apart by their bytes: what Swift's `String` calls equal (canonical equivalence) is
/// two keys here, in `ASCII.same` and in sets of `ExactText`.
struct ExactTextTests {
    static let lookalikes = [("jos\u{e9}", "jose\u{301}"), ("Kim", "\u{212A}im"), ("a\u{316}\u{301}", "a\u{301}\u{316}")]

    @Test func canonicallyEquivalentTextsAreDifferentKeys() {
        for (a, b) in Self.lookalikes {
            #expect(a == b)
            #expect(!ASCII.same(a, b))
            #expect(ExactText(a) != ExactText(b))
            #expect(Set([ExactText(a), ExactText(b)]).count == 2)
            #expect(ASCII.same(a, String(decoding: Array(a.utf8), as: UTF8.self)))
        }
        #expect(ASCII.same(nil, nil) && !ASCII.same("a", nil) && !ASCII.same(nil, "a"))
        var seen: Set<ExactText> = []
        for word in ["operation", "bucket", "key", "operation"] { seen.insert(ExactText(word)) }
        #expect(seen.count == 3 && seen.contains(ExactText("bucket")))
    }
}
