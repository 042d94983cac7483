import HTTPServer
import PresignAPI
import PresignConfig
import Testing

/// The upload routes' answers that come before any S3 call: credentials first (401 even where uploads are not
/// configured), then 501 without an upload-token key, and preflights that name only the methods each path takes.
struct UploadRoutesTests {
    static let routes = [
        ("POST", "/v1/uploads"), ("POST", "/v1/uploads/x/parts"), ("GET", "/v1/uploads/x/parts"),
        ("POST", "/v1/uploads/x/complete"), ("DELETE", "/v1/uploads/x"),
    ]

    @Test func missingCredentialsAre401BeforeAnythingElse() async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        for (method, path) in Self.routes {
            let response = service.respond(Fixture.request(method, path, body: method == "POST" ? "{}" : ""))
            #expect(response.status.code == 401, "\(method) \(path)")
            #expect(Fixture.text(response) == #"{"error":{"code":"Unauthorized","message":"missing Authorization: Bearer credentials"}}"#)
        }
    }

    @Test func withoutAnUploadKeyTheRoutesAre501() async throws {
        let clock = Fixture.Clock()
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()), clock: clock)
        for (method, path) in Self.routes {
            clock.mono += 10_000_000_000  // the caller's rate limit refills between calls
            let response = service.respond(Fixture.request(method, path, body: method == "POST" ? "{}" : "", headers: APITests.auth))
            #expect(response.status.code == 501, "\(method) \(path)")
            #expect(Fixture.text(response) == #"{"error":{"code":"UploadsDisabled","message":"multipart uploads need uploads.token_secret_env or _file in the config"}}"#)
        }
    }

    @Test(arguments: [
        ("/v1/uploads", "POST, OPTIONS"), ("/v1/uploads/x/parts", "GET, POST, OPTIONS"),
        ("/v1/uploads/x/complete", "POST, OPTIONS"), ("/v1/uploads/x", "DELETE, OPTIONS"),
    ])
    func aPreflightNamesOnlyThePathsOwnMethods(_ path: String, _ allow: String) async throws {
        let service = Fixture.service(try await Fixture.config(try Fixture.makeKeys()))
        let plain = service.respond(Fixture.request("OPTIONS", path))
        #expect(plain.status.code == 204 && Fixture.header(plain, "Allow") == allow)
        let cors = service.respond(Fixture.request("OPTIONS", path, headers: [("Origin", "https://app.example.com"), ("Access-Control-Request-Method", "PUT")]))
        #expect(cors.status.code == 403)
    }
}
