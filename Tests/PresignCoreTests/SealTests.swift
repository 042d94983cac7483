import PresignCore
import Testing

/// The one sealing scheme: opens only what it sealed, under the same secret and domain, spelled canonically.
struct SealTests {
    static let secret = Array("seal-test-secret-0123456789abcdef".utf8)
    static let payload = Array(#"{"c":"web","e":1}"#.utf8)

    @Test func aSealedPayloadOpensUnderItsSecretAndDomainOnly() {
        let upload = Seal(domain: "presignd-upload-v1.")
        let receipt = Seal(domain: "presignd-receipt-v1.")
        let token = upload.seal(Self.payload, with: Self.secret)
        #expect(upload.open(token, with: Self.secret) == Self.payload)
        #expect(receipt.open(token, with: Self.secret) == nil)
        #expect(upload.open(token, with: Array("another-secret".utf8)) == nil)
    }

    @Test func everyOneByteChangeIsRefused() {
        let seal = Seal(domain: "d.")
        let token = Array(seal.seal(Self.payload, with: Self.secret).utf8)
        var opened = 0
        for index in token.indices {
            for replacement in Array("A_-.=+/0".utf8) where replacement != token[index] {
                var changed = token
                changed[index] = replacement
                if seal.open(String(decoding: changed, as: UTF8.self), with: Self.secret) != nil { opened += 1 }
            }
        }
        #expect(opened == 0)
    }

    @Test func overLongTokensAreRefusedBeforeAnyWork() {
        let seal = Seal(domain: "d.", maxLength: 64)
        let long = Array(repeating: UInt8(ascii: "a"), count: 200)
        let token = Seal(domain: "d.").seal(long, with: Self.secret)
        #expect(token.utf8.count > 64)
        #expect(seal.open(token, with: Self.secret) == nil)
        #expect(Seal(domain: "d.").open(token, with: Self.secret) == long)
    }

    /// The form byte for byte, against a known answer computed outside presignd (Python's `hmac` and `base64`):
    /// `base64url(payload) "." base64url(HMAC-SHA256(secret, domain + base64url(payload)))`. A change to what the
    /// MAC covers or how it is encoded, made alike in `seal` and `open`, round-trips and fails only here.
    @Test func theFormIsTheEncodedPayloadDotItsMACOverDomainAndEncodedPayload() {
        let known = "eyJjIjoid2ViIiwiZSI6MX0.WbUUKTDzxuBnmWvyrHzXsza2cAVaDShQNx9DZffmtwI"
        let upload = Seal(domain: "presignd-upload-v1.")
        #expect(upload.seal(Self.payload, with: Self.secret) == known)
        #expect(upload.open(known, with: Self.secret) == Self.payload)
        #expect(upload.open(known + "A", with: Self.secret) == nil)
        #expect(upload.open(String(known.dropLast()), with: Self.secret) == nil)
        #expect(upload.open("." + known, with: Self.secret) == nil)
    }
}
