import S3Signing
import Testing

/// The worked examples from AWS's S3 documentation.
struct DocumentExampleTests {
    static let credentials = Credentials(
        accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")

    @Test func sigV4PresignedURLMatchesAWSExample() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: S3Endpoint(scheme: "https", host: "s3.amazonaws.com"), region: "us-east-1",
                addressing: .virtual, signature: .v4, credentials: Self.credentials))
        let url = try presigner.presign(
            .init(operation: .get, bucket: "examplebucket", key: "test.txt", expiry: .after(seconds: 86400)),
            now: SigningTime(epochSeconds: 1_369_353_600)
        ).url
        #expect(
            url
                == "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                + "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
                + "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
                + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    }

    @Test func sigV2HeaderAuthMatchesAWSExample() {
        let signer = SigV2Signer(credentials: Self.credentials, dialect: .aws)
        // "Tue, 27 Mar 2007 19:36:42 +0000" as the guide writes it.
        let toSign = SigV2Signer.stringToSign(
            method: "GET", headers: [("Host", "johnsmith.s3.amazonaws.com")],
            dateOrExpires: "Tue, 27 Mar 2007 19:36:42 +0000",
            canonicalResource: SigV2Signer.canonicalResource(resourcePath: "/johnsmith/photos/puppy.jpg", query: []))
        #expect(toSign == "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n/johnsmith/photos/puppy.jpg")
        #expect(signer.signature(stringToSign: toSign) == "bWq2s1WEIj+Ydj0vQ697zp+IXMU=")
    }

    @Test func sigV2QueryAuthMatchesAWSExample() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: S3Endpoint(scheme: "https", host: "s3.amazonaws.com"), region: "us-east-1",
                addressing: .path, signature: .v2, credentials: Self.credentials))
        let url = try presigner.presign(
            .init(operation: .get, bucket: "johnsmith", key: "photos/puppy.jpg", expiry: .at(.init(epochSeconds: 1_175_139_620))),
            now: SigningTime(epochSeconds: 1_175_000_000)
        ).url
        #expect(
            url
                == "https://s3.amazonaws.com/johnsmith/photos/puppy.jpg?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE"
                + "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620")
    }

    @Test func s3fmDialectNamesItsOwnKeyParameterWithTheSameSignature() throws {
        var generator = QueryStringAuthGenerator.s3fm(
            accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            addressing: .path)
        generator.expires = SigningTime(epochSeconds: 1_175_139_620)
        let url = try generator.get(bucket: "johnsmith", key: "photos/puppy.jpg", now: .init(epochSeconds: 1_175_000_000))
        #expect(
            url
                == "https://rest.s3for.me/johnsmith/photos/puppy.jpg?S3fmAccessKeyId=AKIAIOSFODNN7EXAMPLE"
                + "&Signature=NpgCjnDzrM%2BWFzoENXmpNDUsSn8%3D&Expires=1175139620")
    }
}
