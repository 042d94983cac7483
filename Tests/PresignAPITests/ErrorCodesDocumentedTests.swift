import PresignAPI
import PresignCore
import Testing
import Yams

/// openapi.yaml's `x-error-codes` is the list of every code the API answers with and its status: it must equal
/// `APIError.Code` exactly, so a code added, removed or moved to another status fails here until the document
/// says so too.
struct ErrorCodesDocumentedTests {
    @Test func theDocumentListsEveryCodeWithItsStatus() throws {
        let document = try #require(try Yams.load(yaml: OpenAPIDocument.yaml) as? [String: Any])
        let listed = try #require(document["x-error-codes"] as? [String: Int])
        let codes = Dictionary(uniqueKeysWithValues: APIError.Code.allCases.map { ($0.rawValue, $0.status) })
        #expect(listed == codes)
    }
}
