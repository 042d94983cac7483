import Crypto
import Foundation
import S3Signing
import Testing

/// The requests the connection sends, signed by the signing module: checked stage by stage.
struct SignedRequestTests {
    static let credentials = Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let now = SigningTime(epochSeconds: 1_369_353_600)  // 2013-05-24T00:00:00Z, AWS's documentation date

    @Test func sigV4ListWithQueryMatchesTheStages() throws {
        let presigner = S3Presigner(.init(endpoint: try S3Endpoint(parsing: "https://examplebucket.s3.amazonaws.com"),
                                          region: "us-east-1", addressing: .path, signature: .v4, credentials: Self.credentials))
        let signed = try presigner.signRequest(.listBucket, bucket: "b", query: [("prefix", "a b/"), ("max-keys", "2")], now: Self.now)
        #expect(signed.url == "https://examplebucket.s3.amazonaws.com/b/?prefix=a%20b%2F&max-keys=2")
        let names = signed.headers.map(\.name)
        #expect(names == ["Host", "X-Amz-Date", "x-amz-content-sha256", "Authorization"])
        let canonical = """
            GET
            /b/
            max-keys=2&prefix=a%20b%2F
            host:examplebucket.s3.amazonaws.com
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """
        let hash = SHA256.hash(data: Array(canonical.utf8)).map { String(format: "%02x", $0) }.joined()
        #expect(signed.stringToSign == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n\(hash)")
        let key = SigV4.signingKey(secret: Self.credentials.secretAccessKey, dateStamp: "20130524", region: "us-east-1", service: "s3")
        let signature = SigV4.signature(stringToSign: signed.stringToSign, signingKey: key)
        #expect(signed.headers.last?.value == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=\(signature)")
    }

    @Test func s3fmAclPutIsSignedWithTheSeedsStringToSign() throws {
        let presigner = S3Presigner(.init(endpoint: try S3Endpoint(parsing: "https://rest.s3for.me"), region: "us-east-1",
                                          addressing: .virtual, signature: .s3fm, credentials: Self.credentials))
        let signed = try presigner.signRequest(.putACL, bucket: "photos", key: "a b.jpg",
                                               headers: [("Content-Type", "application/xml")], now: Self.now)
        #expect(signed.url == "https://photos.rest.s3for.me/a%20b.jpg?acl")
        #expect(signed.stringToSign == "PUT\n\napplication/xml\nFri, 24 May 2013 00:00:00 GMT\n/photos/a%20b.jpg?acl")
        let expected = SigV2Signer(credentials: Self.credentials, dialect: .s3fm).signature(stringToSign: signed.stringToSign)
        #expect(signed.headers.map { "\($0.name): \($0.value)" } == [
            "Host: photos.rest.s3for.me", "Content-Type: application/xml", "Date: Fri, 24 May 2013 00:00:00 GMT",
            "Authorization: AWS AKIAIOSFODNN7EXAMPLE:\(expected)",
        ])
    }

    @Test func requestsGoToTheEndpointNotThePublicOne() throws {
        let presigner = S3Presigner(.init(endpoint: try S3Endpoint(parsing: "http://10.0.0.5:8333"),
                                          publicEndpoint: try S3Endpoint(parsing: "https://files.example.com"),
                                          region: "us-east-1", addressing: .path, signature: .v4, credentials: Self.credentials))
        #expect(try presigner.signRequest(.get, bucket: "b", key: "k", now: Self.now).url == "http://10.0.0.5:8333/b/k")
    }
}
