import HTTPServer
@testable import S3Client
import Testing

@testable import AdminProxy

/// How S3 results become HTTP answers: statuses, codes and the exact error bodies.
struct AdminResponsesTests {
    static func body(_ response: HTTPResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func anS3ErrorKeepsS3sStatusCodeMessageAndRequestId() throws {
        let xml = "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><RequestId>r-1</RequestId></Error>"
        let response = AdminProxy.errorResponse(.s3(status: 404, document: try S3ErrorDocument(xml: Array(xml.utf8))))
        #expect(response.status.code == 404)
        #expect(response.headers.map { "\($0.name): \($0.value)" } == ["Content-Type: application/json"])
        #expect(Self.body(response) == #"{"error":{"code":"NoSuchKey","message":"The specified key does not exist.","s3_request_id":"r-1"}}"#)
    }

    @Test func anS3ErrorWithoutRequestIdHasNoRequestIdMember() throws {
        let xml = "<Error><Code>AccessDenied</Code><Message>no \"way\"</Message></Error>"
        let response = AdminProxy.errorResponse(.s3(status: 403, document: try S3ErrorDocument(xml: Array(xml.utf8))))
        #expect(response.status.code == 403)
        #expect(Self.body(response) == #"{"error":{"code":"AccessDenied","message":"no \"way\""}}"#)
    }

    @Test func anUnreadableBackendAnswerIs502AndARefusedCallIs400() {
        let unreadable = AdminProxy.errorResponse(.badResponse("response over 16777216 bytes"))
        #expect(unreadable.status.code == 502)
        #expect(Self.body(unreadable) == #"{"error":{"code":"BadGateway","message":"unreadable backend response: response over 16777216 bytes"}}"#)
        let refused = AdminProxy.errorResponse(.invalid("bucket: not a valid name"))
        #expect(refused.status.code == 400)
        #expect(Self.body(refused) == #"{"error":{"code":"InvalidRequest","message":"bucket: not a valid name"}}"#)
    }

    @Test func onlyObjectHeadersArePassedThroughAndRepeatedOnesStayRepeated() {
        let head = S3ResponseHead(status: 200, headers: [
            ("Content-Type", "text/plain"), ("ETag", "\"e\""), ("Server", "SeaweedFS"), ("x-amz-meta-a", "1"),
            ("X-Amz-Meta-A", "2"), ("x-amz-request-id", "r"), ("Content-Range", "bytes 0-1/2"),
        ])
        #expect(AdminProxy.passThrough(head).map { "\($0.name): \($0.value)" } == [
            "Content-Type: text/plain", "ETag: \"e\"", "x-amz-meta-a: 1", "X-Amz-Meta-A: 2", "Content-Range: bytes 0-1/2",
        ])
    }
}
