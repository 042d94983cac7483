import PresignCore
import S3Signing
import Testing

/// What a grant fixes and how long it may live, decided once for every endpoint.
struct GrantTests {
    static func rule(_ operations: Set<Capability>, max: Int64, maxLength: Int64? = nil) throws -> PolicyRule {
        PolicyRule(number: 1, name: nil, operations: operations, bucket: try KeyPattern("b"), key: try KeyPattern("*"),
                   backend: nil, maxExpiresIn: max, contentTypes: nil, maxContentLength: maxLength)
    }

    static func grant(_ intent: Intent, _ rule: PolicyRule, _ signature: SignatureVersion) throws -> Grant {
        try PolicyEngine.evaluate(intent, Principal(name: "c", rules: [rule], claims: ["sub": "s"]),
                                  backend: .init(name: "main", signature: signature)).get()
    }

    @Test func theDefaultLifetimeIsTheCapabilitysUnderTheCap() throws {
        let year: Int64 = 31_536_000
        let get = Intent(capability: .sign(.get), bucket: "b", key: "k")
        #expect(try Self.grant(get, Self.rule([.sign(.get)], max: year), .v2).lifetime == 900)
        #expect(try Self.grant(get, Self.rule([.sign(.get)], max: 60), .v4).lifetime == 60)
        let link = Intent(capability: .shareLink, bucket: "b", key: "k")
        let linkGrant = try Self.grant(link, Self.rule([.shareLink], max: year), .v4)
        #expect(linkGrant.lifetime == 86_400 && linkGrant.maxLifetime == year)
        var upload = Intent(capability: .sign(.put), bucket: "b", key: "k")
        upload.upload.multipart = true
        #expect(try Self.grant(upload, Self.rule([.sign(.put)], max: year), .v4).lifetime == 86_400)
        #expect(try Self.grant(upload, Self.rule([.sign(.put)], max: year), .v4).maxLifetime == 604_800)
    }

    @Test func aLifetimeOverTheCapIsDeniedNotShortened() throws {
        let asked = Intent(capability: .sign(.get), bucket: "b", key: "k", lifetime: 604_801)
        let result = PolicyEngine.evaluate(asked, Principal(name: "c", rules: [try Self.rule([.sign(.get)], max: 31_536_000)], claims: [:]),
                                           backend: .init(name: "main", signature: .v4))
        guard case .failure(let denial) = result else { Issue.record("granted"); return }
        #expect(denial.message == "rule 1: expires_in 604801 is over max_expires_in 604800")
    }

    @Test func aFormWithoutARangeIsHeldToTheRulesMaximum() throws {
        var form = Intent(capability: .postForm, bucket: "b", key: "up/${filename}")
        form.upload.contentType = "image/png"
        let grant = try Self.grant(form, Self.rule([.postForm], max: 600, maxLength: 5000), .v4)
        #expect(grant.keyPrefix == "up/")
        #expect(grant.formConditions.fields.map(\.name) == ["Content-Type"])
        #expect(grant.formConditions.conditions == [.contentLengthRange(min: 0, max: 5000)])
    }

    @Test func anUploadTokenCarriesItsGrantAndDecidesAgainAsTheSameIntent() throws {
        var intent = Intent(capability: .sign(.put), backend: "main", bucket: "b", key: "k")
        intent.upload.multipart = true
        intent.upload.contentType = "video/mp4"
        intent.upload.checksumAlgorithm = .crc32c
        let grant = try Self.grant(intent, Self.rule([.sign(.put)], max: 600), .v4)
        let token = UploadToken(grant, uploadId: "u-1", expiresAt: 99)
        #expect(token.caller == "c" && token.subject == "s" && token.uploadId == "u-1")
        #expect(token.intent == intent)
        let secret = Array("k".utf8)
        #expect(UploadToken.open(token.sealed(with: secret), with: secret) == token)
    }
}
