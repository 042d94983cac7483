import PresignConfig
import Testing

/// `Authorization: Bearer <token>`: scheme in any case, blanks around the token dropped, nothing else accepted.
struct BearerTokenTests {
    @Test(arguments: [
        ("Bearer abc", "abc"), ("bearer abc", "abc"), ("BEARER \t abc \t", "abc"), ("Bearer ", ""), ("Bearer  \t ", ""),
        ("Bearer a b", "a b"), ("Bearer é", "é"),
    ])
    func bearerCredentialsGiveTheirToken(_ header: String, _ token: String) {
        #expect(BearerToken.token(in: header) == token)
    }

    @Test(arguments: ["Basic abc", "Bearer", "Bearerabc", "Bearer\tabc", "Bearex abc", "", "Bear"])
    func anythingElseIsNotABearerCredential(_ header: String) {
        #expect(BearerToken.token(in: header) == nil)
    }
}
