
import Testing
import PresignCore

/// The sealed upload handle: what goes in comes out under the right key, and nothing else opens.
struct UploadTokenTests {
    static let secret = Array("upload-token-secret-for-tests-0123456789".utf8)
    static let token = UploadToken(
        caller: "web", subject: "42", backend: "main", bucket: "media", key: "users/42/video \"one\".mp4",
        uploadId: "abc_123-XYZ", checksumAlgorithm: .sha256, contentType: "video/mp4", contentLength: 123_456_789,
        expiresAt: 1_795_000_000)

    @Test func aSealedTokenOpensToTheSameFieldsUnderTheSameKey() {
        let sealed = Self.token.sealed(with: Self.secret)
        #expect(UploadToken.open(sealed, with: Self.secret) == Self.token)
        #expect(sealed.utf8.allSatisfy { ASCIIBytes.isURLSafe($0) })
        // Deterministic: the same fields seal to the same bytes.
        #expect(Self.token.sealed(with: Self.secret) == sealed)
    }

    @Test func optionalFieldsStayAbsent() {
        var bare = Self.token
        bare.subject = nil
        bare.checksumAlgorithm = nil
        bare.contentType = nil
        bare.contentLength = nil
        #expect(UploadToken.open(bare.sealed(with: Self.secret), with: Self.secret) == bare)
    }

    /// Every single-character change of a sealed token, and the token under another key, fails to open.
    @Test func anyTamperingOrAnotherKeyFailsToOpen() {
        let sealed = Array(Self.token.sealed(with: Self.secret).utf8)
        #expect(UploadToken.open(String(decoding: sealed, as: UTF8.self), with: Array("another-secret-0123456789012345678".utf8)) == nil)
        // Every position, each replaced by every other byte of the token alphabet: deterministic and exhaustive.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.".utf8)
        for index in sealed.indices {
            for replacement in alphabet where replacement != sealed[index] {
                var changed = sealed
                changed[index] = replacement
                #expect(UploadToken.open(String(decoding: changed, as: UTF8.self), with: Self.secret) == nil, "byte \(index) → \(replacement)")
            }
        }
        #expect(UploadToken.open("", with: Self.secret) == nil)
        #expect(UploadToken.open(".", with: Self.secret) == nil)
        #expect(UploadToken.open(String(repeating: "a", count: UploadToken.maxLength + 1) + ".b", with: Self.secret) == nil)
    }
}

enum ASCIIBytes {
    static func isURLSafe(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F || b == 0x2E
    }
}
