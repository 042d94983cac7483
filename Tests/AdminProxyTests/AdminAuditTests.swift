import HTTPServer
import LineLog
import S3Signing
import Testing

@testable import AdminProxy

/// The admin audit line, byte for byte.
struct AdminAuditTests {
    static let now = SigningTime(epochSeconds: 1_700_000_000)

    @Test func anObjectCallNamesBucketKeyAndTheClientsOwnRequestIdBesideTheServers() {
        let request = HTTPRequest(
            head: HTTPRequestHead(method: "DELETE", target: "/admin/v1/buckets/b/objects/a%22b"), body: [],
            requestId: "srv-1", clientAddress: "10.0.0.7", clientRequestId: "theirs-9")
        let line = AdminProxy.auditEvent(request: request, operation: "delete", backend: "main", bucket: "b", key: "a\"b", now: Self.now).line
        #expect(line == #"""
            {"audit":"admin","time":"2023-11-14T22:13:20Z","request_id":"srv-1","client_request_id":"theirs-9","caller":"admin","operation":"delete","backend":"main","bucket":"b","key":"a\"b","client_ip":"10.0.0.7"}
            """#)
    }

    @Test func aBucketListingHasNullBucketAndKeyAndNoClientIdWhenNoneWasSent() {
        let request = HTTPRequest(head: HTTPRequestHead(method: "GET", target: "/admin/v1/buckets"), body: [], requestId: "srv-2")
        let line = AdminProxy.auditEvent(request: request, operation: "list_all_my_buckets", backend: "main", bucket: nil, key: nil, now: Self.now).line
        #expect(line == #"""
            {"audit":"admin","time":"2023-11-14T22:13:20Z","request_id":"srv-2","caller":"admin","operation":"list_all_my_buckets","backend":"main","bucket":null,"key":null,"client_ip":""}
            """#)
    }
}
