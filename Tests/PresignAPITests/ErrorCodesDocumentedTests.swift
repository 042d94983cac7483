import Foundation
import HTTPServer
import PresignAPI
import PresignCore
import PresignRuntime
import Testing
import Yams

/// openapi.yaml's `x-error-codes` is the list of every code presignd itself answers with and its status: it must
/// equal `APIError.Code` exactly, so a code added, removed or moved to another status fails here until the document
/// says so too. The list is what reaches the wire: an S3 refusal carries S3's own code (no code of ours stands in
/// for it), and every error code the three replay corpora recorded is one of ours, one of the HTTP layer's
/// (`x-http-error-codes`), or S3's on a route that calls S3.
struct ErrorCodesDocumentedTests {
    static func document() throws -> [String: Any] {
        try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
    }

    @Test func theDocumentListsEveryCodeWithItsStatus() throws {
        let listed = try #require(try Self.document()["x-error-codes"] as? [String: Int])
        let codes = Dictionary(uniqueKeysWithValues: APIError.Code.allCases.map { ($0.rawValue, $0.status) })
        #expect(listed == codes)
    }

    @Test func anS3RefusalCarriesS3sStatusAndCodeAndNoneOfOurs() {
        let refusal = APIError.upstream(status: 409, code: "BucketNotEmpty", message: "not empty", requestId: "tx1")
        #expect(refusal.code == nil)
        let answer = HTTPResponse(error: refusal)
        #expect(answer.status.code == 409)
        #expect(answer.headers.map { "\($0.name): \($0.value)" } == ["Content-Type: application/json"])
        #expect(String(decoding: answer.body, as: UTF8.self)
            == #"{"error":{"code":"BucketNotEmpty","message":"not empty","s3_request_id":"tx1"}}"#)
        let ours = HTTPResponse(error: APIError(.credentialsUnavailable, "later", headers: ["Retry-After": "5"]))
        #expect(ours.status.code == 503)
        #expect(ours.headers.map { "\($0.name): \($0.value)" } == ["Content-Type: application/json", "Retry-After: 5"])
        #expect(String(decoding: ours.body, as: UTF8.self) == #"{"error":{"code":"CredentialsUnavailable","message":"later"}}"#)
    }

    /// Every `{"error":{"code":…}}` in the recorded exchanges (whole answers and batch items): ours with its listed
    /// status, the HTTP layer's with its, or S3's on an upload or admin route.
    @Test func everyCodeTheCorporaRecordedIsDocumented() throws {
        let document = try Self.document()
        let ours = try #require(document["x-error-codes"] as? [String: Int])
        let http = try #require(document["x-http-error-codes"] as? [String: Int])
        var seen = 0
        for name in ["corpus.jsonl", "links-uploads.jsonl", "s3-routes.jsonl"] {
            let text = try String(contentsOf: Replay.directory.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let exchange = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let status = try #require(exchange["status"] as? Int)
                let target = try #require(exchange["target"] as? String)
                guard let body = exchange["body"] as? String, let parsed = try? JSONSerialization.jsonObject(with: Data(body.utf8)) else { continue }
                for (code, itemStatus) in Self.errorCodes(in: parsed, status: status) {
                    seen += 1
                    if let listed = ours[code] ?? http[code] {
                        #expect(listed == itemStatus, "\(name) \(target): \(code) answered \(itemStatus)")
                    } else {
                        #expect(target.hasPrefix("/admin/") || target.hasPrefix("/v1/uploads"), "\(name) \(target): \(code) is not documented")
                    }
                }
            }
        }
        #expect(seen > 100)
    }

    /// The error codes in an answer, each with its status (a batch item's own `status`, else the answer's).
    static func errorCodes(in value: Any, status: Int) -> [(String, Int)] {
        if let object = value as? [String: Any] {
            if let error = object["error"] as? [String: Any], let code = error["code"] as? String {
                return [(code, object["status"] as? Int ?? status)]
            }
            return object.values.flatMap { errorCodes(in: $0, status: status) }
        }
        if let array = value as? [Any] { return array.flatMap { errorCodes(in: $0, status: status) } }
        return []
    }
}
