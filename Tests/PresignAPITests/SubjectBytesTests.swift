import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import Testing

/// A link or an upload belongs to its caller and JWT subject as bytes. Two subjects that Swift's `==` calls equal
/// (`jos\u{e9}` and `jose` + U+0301, `Kim` and the Kelvin sign's `\u{212A}im`) are two people: one may not read,
/// revoke or continue what the other made.
struct SubjectBytesTests {
    static let pairs = [("jos\u{e9}", "jose\u{301}"), ("Kim", "\u{212A}im")]

    @Test(arguments: pairs) func aLinkIsNotAnEquivalentSubjectsLink(owner: String, lookalike: String) async throws {
        // Swift calls them equal; their bytes differ.
        #expect(owner == lookalike && !owner.utf8.elementsEqual(lookalike.utf8))
        let s = try await LinkRoutesTests.setup()
        let mine = try await Fixture.es256Token(Fixture.claims(sub: owner), key: s.keys.es256)
        let theirs = try await Fixture.es256Token(Fixture.claims(sub: lookalike), key: s.keys.es256)
        let (created, answer) = LinkRoutesTests.create(
            s, #"{"bucket":"uploads","key":"users/\#(owner)/cat.png"}"#, headers: [("Authorization", "Bearer \(mine)")])
        #expect(created.status.code == 201)
        let id = LinkRoutesTests.id(answer)
        let notFound = #"{"error":{"code":"LinkNotFound","message":"no such link"}}"#
        for method in ["GET", "DELETE"] {
            let refused = s.service.respond(Fixture.request(method, "/v1/links/\(id)", headers: [("Authorization", "Bearer \(theirs)")]))
            #expect(refused.status.code == 404)
            #expect(Fixture.text(refused) == notFound)
        }
        let own = s.service.respond(Fixture.request("GET", "/v1/links/\(id)", headers: [("Authorization", "Bearer \(mine)")]))
        #expect(own.status.code == 200)
        #expect(Fixture.text(own).contains(#""revoked":false"#))
    }

    @Test(arguments: pairs) func anUploadIsNotAnEquivalentSubjectsUpload(owner: String, lookalike: String) async throws {
        let directory = NSTemporaryDirectory() + "presignd-subject-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let config = try await ConfigLoader.load(
            yaml: LinkUploadReplayTests.yaml(sqlitePath: directory + "/links.sqlite", links: "", uploads: true),
            secrets: SecretSource(environment: LinkUploadReplayTests.environment))
        let service = Fixture.service(config, clock: Fixture.Clock(), audit: Fixture.Lines())
        func token(_ sub: String) async throws -> String {
            try await Fixture.hs256Token(
                Fixture.claims(sub: sub, iss: "https://hs.example.com", aud: "app", exp: Fixture.now + 3600), secret: LinkUploadReplayTests.hsSecret)
        }
        let handle = LinkUploadReplayTests.upload(
            caller: "user", subject: owner, bucket: "uploads", key: "users/\(owner)/a.png", type: "image/png")
        let body = #"{"parts":[{"number":1}]}"#
        let theirs = service.respond(Fixture.request(
            "POST", "/v1/uploads/\(handle)/parts", body: body, headers: [("Authorization", "Bearer \(try await token(lookalike))")]))
        #expect(theirs.status.code == 404)
        #expect(Fixture.text(theirs) == #"{"error":{"code":"UploadNotFound","message":"no such upload"}}"#)
        let mine = service.respond(Fixture.request(
            "POST", "/v1/uploads/\(handle)/parts", body: body, headers: [("Authorization", "Bearer \(try await token(owner))")]))
        #expect(mine.status.code == 200)
    }
}
