import HTTPServer
import Testing

@testable import AdminProxy

/// What an upload passes on to the backend from the client's request head.
struct AdminProxyUploadTests {
    @Test func onlyContentHeadersAndUserMetadataArePassedOnInTheirOrder() {
        let head = HTTPRequestHead(method: "PUT", target: "/admin/v1/buckets/b/objects/k", headers: [
            ("Authorization", "Bearer t"), ("x-amz-meta-owner", "ann"), ("Content-Type", "text/plain"),
            ("Content-Length", "3"), ("Cache-Control", "no-cache"), ("X-Amz-Meta-Tag", "x"), ("x-amz-acl", "public-read"),
        ], contentLength: 3)
        #expect(AdminProxy.uploadHeaders(head).map { "\($0.name): \($0.value)" } == [
            "Content-Type: text/plain", "Cache-Control: no-cache", "x-amz-meta-owner: ann", "X-Amz-Meta-Tag: x",
        ])
    }
}
