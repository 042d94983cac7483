import S3Client
import S3Signing
import Testing

/// The exact requests the multipart operations send, signed as `S3fmAuthConnection` signs them. SigV4
/// Authorization values are botocore 1.x's for the same request (S3SigV4Auth, clock fixed); SigV2 signatures are
/// HMAC-SHA1 of the string shown, computed apart with Python's hmac. Every one of these shapes was sent to
/// SeaweedFS 4.48 by MultipartLiveTests.
struct MultipartRequestTests {
    static let credentials = Credentials(accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let now = SigningTime(epochSeconds: 1_369_353_600)  // Fri, 24 May 2013 00:00:00 GMT
    static let date = "Fri, 24 May 2013 00:00:00 GMT"

    static func presigner(_ signature: SignatureVersion) throws -> S3Presigner {
        S3Presigner(.init(endpoint: try S3Endpoint(parsing: "http://127.0.0.1:8333"), region: "us-east-1", addressing: .path,
                          signature: signature, credentials: credentials))
    }

    /// Signs `call` exactly as `S3fmAuthConnection.start` does (a body means UNSIGNED-PAYLOAD).
    static func sign(_ call: S3fmAuthConnection.Call, _ signature: SignatureVersion, body: Bool) throws -> SignedRequest {
        try presigner(signature).signRequest(
            call.operation, bucket: call.bucket, key: call.key, query: call.query, headers: call.headers,
            payloadHash: body ? S3Presigner.unsignedPayload : S3Presigner.emptyPayload, method: call.method, now: now)
    }

    static func lines(_ signed: SignedRequest) -> [String] {
        ["\(signed.method) \(signed.url)"] + signed.headers.map { "\($0.name): \($0.value)" }
    }

    static let v4Prefix = "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
    static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    static let create = S3fmAuthConnection.Call.createMultipartUpload(
        "b", key: "a b.bin", headers: [("Content-Type", "video/mp4"), ("x-amz-checksum-algorithm", "SHA256")])
    static let list = S3fmAuthConnection.Call.listParts("b", key: "a b.bin", uploadId: "u+1/2", after: 1000)
    static let complete = S3fmAuthConnection.Call.completeMultipartUpload("b", key: "a b.bin", uploadId: "u+1/2", objectSize: 10_486_760)
    static let abort = S3fmAuthConnection.Call.abortMultipartUpload("b", key: "a b.bin", uploadId: "u+1/2")
    static let uploads = S3fmAuthConnection.Call.listMultipartUploads("b")

    @Test func sigV4RequestsMatchBotocore() throws {
        #expect(Self.lines(try Self.sign(Self.create, .v4, body: true)) == [
            "POST http://127.0.0.1:8333/b/a%20b.bin?uploads=", "Host: 127.0.0.1:8333", "Content-Type: video/mp4",
            "x-amz-checksum-algorithm: SHA256", "X-Amz-Date: 20130524T000000Z", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            Self.v4Prefix + "SignedHeaders=content-type;host;x-amz-checksum-algorithm;x-amz-content-sha256;x-amz-date, Signature=e9c2e5ef5ba2e874028162a3bfddce4f2999683e2fdd5145ac3c01d9a420a648",
        ])
        #expect(Self.lines(try Self.sign(Self.list, .v4, body: false)) == [
            "GET http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2&part-number-marker=1000", "Host: 127.0.0.1:8333",
            "X-Amz-Date: 20130524T000000Z", "x-amz-content-sha256: \(Self.empty)",
            Self.v4Prefix + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=3acf82a2d988b01ba7fcc1c696018b7a7f71b772c1d3bfd09e71e5aceab557f5",
        ])
        #expect(Self.lines(try Self.sign(Self.complete, .v4, body: true)) == [
            "POST http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2", "Host: 127.0.0.1:8333", "Content-Type: application/xml",
            "x-amz-mp-object-size: 10486760", "X-Amz-Date: 20130524T000000Z", "x-amz-content-sha256: UNSIGNED-PAYLOAD",
            Self.v4Prefix + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-mp-object-size, Signature=6f4244965b22812c44a5d772f49c3598c1a7eede1e467e7d2116acc105ebefc5",
        ])
        #expect(Self.lines(try Self.sign(Self.abort, .v4, body: false)) == [
            "DELETE http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2", "Host: 127.0.0.1:8333",
            "X-Amz-Date: 20130524T000000Z", "x-amz-content-sha256: \(Self.empty)",
            Self.v4Prefix + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=d11c0593a8f3d4c7288641fdee9b5d7ea954b1e9ce7ef76b7e11970436c1fb77",
        ])
        #expect(Self.lines(try Self.sign(Self.uploads, .v4, body: false)) == [
            "GET http://127.0.0.1:8333/b/?uploads=&max-uploads=1000", "Host: 127.0.0.1:8333",
            "X-Amz-Date: 20130524T000000Z", "x-amz-content-sha256: \(Self.empty)",
            Self.v4Prefix + "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=ec230fe390af5ef5491a678e3a1c34f3d9e7c53f3f3d510d6776130a1185a963",
        ])
        #expect(Self.list.method == nil && Self.abort.method == nil && Self.uploads.method == nil)
    }

    /// SigV2 signs the sub-resources with decoded values, `uploads` bare, and leaves `part-number-marker` and
    /// `max-uploads` out (they are not sub-resources).
    @Test func sigV2RequestsSignTheSubresources() throws {
        let expected: [(S3fmAuthConnection.Call, Bool, String, String, [String])] = [
            (Self.create, true, "POST\n\nvideo/mp4\n\(Self.date)\nx-amz-checksum-algorithm:SHA256\n/b/a%20b.bin?uploads",
             "Uw6q2/MTUuvI7VK4j247JQoJZoc=", ["POST http://127.0.0.1:8333/b/a%20b.bin?uploads=", "Host: 127.0.0.1:8333", "Content-Type: video/mp4", "x-amz-checksum-algorithm: SHA256"]),
            (Self.list, false, "GET\n\n\n\(Self.date)\n/b/a%20b.bin?uploadId=u+1/2",
             "QjK++fSIOu4ljGnBIxpiUt4gNnQ=", ["GET http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2&part-number-marker=1000", "Host: 127.0.0.1:8333"]),
            (Self.complete, true, "POST\n\napplication/xml\n\(Self.date)\nx-amz-mp-object-size:10486760\n/b/a%20b.bin?uploadId=u+1/2",
             "Nsd7lK/2Aa2AQe8v8s7v0hcShIg=", ["POST http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2", "Host: 127.0.0.1:8333", "Content-Type: application/xml", "x-amz-mp-object-size: 10486760"]),
            (Self.abort, false, "DELETE\n\n\n\(Self.date)\n/b/a%20b.bin?uploadId=u+1/2",
             "awGi8y2hsuSakvGRq5cXq8ZtstI=", ["DELETE http://127.0.0.1:8333/b/a%20b.bin?uploadId=u%2B1%2F2", "Host: 127.0.0.1:8333"]),
            (Self.uploads, false, "GET\n\n\n\(Self.date)\n/b/?uploads",
             "qfVylpE3kdV4d7+0iNwEnz74j0Y=", ["GET http://127.0.0.1:8333/b/?uploads=&max-uploads=1000", "Host: 127.0.0.1:8333"]),
        ]
        for (call, body, stringToSign, signature, head) in expected {
            let signed = try Self.sign(call, .v2, body: body)
            #expect(signed.stringToSign == stringToSign)
            #expect(Self.lines(signed) == head + ["Date: \(Self.date)", "Authorization: AWS AKIAIOSFODNN7EXAMPLE:\(signature)"])
        }
    }

    /// The fix this needed in S3Signing: an empty sub-resource value is signed as the bare name, as S3 and
    /// SeaweedFS read it (`?uploads=` signed as `uploads=` got SignatureDoesNotMatch from SeaweedFS 4.48).
    @Test func sigV2SignsAnEmptySubresourceValueAsTheBareName() {
        #expect(SigV2Signer.canonicalResource(resourcePath: "/b/k", query: [("uploads", "")]) == "/b/k?uploads")
        #expect(SigV2Signer.canonicalResource(resourcePath: "/b/k", query: [("uploads", nil)]) == "/b/k?uploads")
        #expect(SigV2Signer.canonicalResource(resourcePath: "/b/k", query: [("uploadId", "a b"), ("partNumber", "7"), ("x", "")])
            == "/b/k?partNumber=7&uploadId=a b")
    }

    static let partQuery = [(name: "partNumber", value: "1"), (name: "uploadId", value: "u+1/2")]
    static let partHeaders = [(name: "Content-Length", value: "5242880"), (name: "x-amz-checksum-sha256", value: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")]

    /// UploadPart needs no new operation: a presigned `.put` with the two query parameters. The host-only SigV4
    /// signature is botocore's `generate_presigned_url("upload_part", …)` (which orders the query differently).
    @Test func presignedUploadPartSigV4() throws {
        let bare = try Self.presigner(.v4).presign(
            .init(operation: .put, bucket: "b", key: "a b.bin", expiry: .after(seconds: 900), query: Self.partQuery), now: Self.now)
        #expect(bare.url == "http://127.0.0.1:8333/b/a%20b.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&partNumber=1&uploadId=u%2B1%2F2&X-Amz-Signature=e566c72a8ce01fd92a3e5d75ef2b1b4709e05741e0cccd9baea6531b6829e282")
        #expect(bare.method == "PUT" && bare.headers.isEmpty)
        let bound = try Self.presigner(.v4).presign(
            .init(operation: .put, bucket: "b", key: "a b.bin", expiry: .after(seconds: 900), headers: Self.partHeaders, query: Self.partQuery),
            now: Self.now)
        #expect(bound.url == "http://127.0.0.1:8333/b/a%20b.bin?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=content-length%3Bhost%3Bx-amz-checksum-sha256&partNumber=1&uploadId=u%2B1%2F2&X-Amz-Signature=0821e95feaf49b9401db88aa29c0a4d51bf878efbdcb4639d0d8d9b634eb170d")
        #expect(bound.headers.map { "\($0.name): \($0.value)" } == ["Content-Length: 5242880", "x-amz-checksum-sha256: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="])
    }

    /// SigV2 signs partNumber and uploadId as sub-resources and the checksum as an x-amz header (it also travels in
    /// the query); SigV2 has no place for Content-Length, so the length is not bound there.
    @Test func presignedUploadPartSigV2() throws {
        let bare = try Self.presigner(.v2).presign(
            .init(operation: .put, bucket: "b", key: "a b.bin", expiry: .after(seconds: 900), query: Self.partQuery), now: Self.now)
        // HMAC-SHA1 of "PUT\n\n\n1369354500\n/b/a%20b.bin?partNumber=1&uploadId=u+1/2".
        #expect(bare.url == "http://127.0.0.1:8333/b/a%20b.bin?partNumber=1&uploadId=u%2B1%2F2&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=7X6fLwZMoh9bz4nF50Fml3l0c18%3D&Expires=1369354500")
        let bound = try Self.presigner(.v2).presign(
            .init(operation: .put, bucket: "b", key: "a b.bin", expiry: .after(seconds: 900), headers: Self.partHeaders, query: Self.partQuery),
            now: Self.now)
        // HMAC-SHA1 of "PUT\n\n\n1369354500\nx-amz-checksum-sha256:47DEQ…FU=\n/b/a%20b.bin?partNumber=1&uploadId=u+1/2".
        #expect(bound.url == "http://127.0.0.1:8333/b/a%20b.bin?partNumber=1&uploadId=u%2B1%2F2&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Signature=OlEBI3vmBvsWYiQ69oCZO%2Fp3OJo%3D&Expires=1369354500&x-amz-checksum-sha256=47DEQpj8HBSa%2B%2FTImW%2B5JCeuQeRkm5NMpJWZG3hSuFU%3D")
    }
}
