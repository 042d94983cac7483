import Crypto
import Foundation
import S3Signing
import Testing

struct PercentEncodingTests {
    @Test func keysAreEncodedAsRFC3986NotFormEncoding() {
        #expect(PercentEncoding.encode("a b+c~d/é", keepSlash: true) == "a%20b%2Bc~d/%C3%A9")
        #expect(PercentEncoding.encode("a/b") == "a%2Fb")
        #expect(PercentEncoding.encode("😀") == "%F0%9F%98%80")
    }

    @Test func decodingRejectsBrokenEscapes() {
        #expect(PercentEncoding.decode("a%2") == nil)
        #expect(PercentEncoding.decode("a%zz") == nil)
        #expect(PercentEncoding.decode("a%20b+c") == "a b+c")
        #expect(PercentEncoding.decode("a%20b+c", plusAsSpace: true) == "a b c")
    }
}

struct SigningTimeTests {
    @Test func formatsEveryStyleFromEpochSeconds() {
        let time = SigningTime(epochSeconds: 1_175_139_620)
        #expect(time.amzDate == "20070329T034020Z")
        #expect(time.iso8601 == "2007-03-29T03:40:20Z")
        #expect(time.httpDate == "Thu, 29 Mar 2007 03:40:20 GMT")
    }

    @Test func parsesRFC3339UTCAndRejectsTheRest() {
        #expect(SigningTime(iso8601: "2026-11-26T08:00:00Z")?.epochSeconds == 1_795_680_000)
        #expect(SigningTime(iso8601: "2024-02-29T23:59:59.123Z")?.epochSeconds == 1_709_251_199)
        #expect(SigningTime(iso8601: "2023-02-29T00:00:00Z") == nil)
        #expect(SigningTime(iso8601: "2026-11-26T08:00:00+01:00") == nil)
        #expect(SigningTime(iso8601: "2026-11-26 08:00:00Z") == nil)
        #expect(SigningTime(iso8601: "yesterday") == nil)
    }
}

struct SigV4StageTests {
    @Test func repeatedHeaderIsSignedOnceWithValuesJoined() {
        let result = SigV4.canonicalHeaders([
            ("X-Amz-Meta-Tag", " a "), ("Host", "h"), ("x-amz-meta-tag", "b  c"),
        ])
        #expect(result.canonical == "host:h\nx-amz-meta-tag:a,b c\n")
        #expect(result.signed == "host;x-amz-meta-tag")
    }

    @Test func s3PathIsNeitherNormalizedNorEncodedTwice() {
        #expect(SigV4.canonicalURI(wirePath: "/b/a/../%20//x", rule: .s3) == "/b/a/../%20//x")
        #expect(SigV4.canonicalURI(wirePath: "/b/a/../%20//x", rule: .generic(normalize: true)) == "/b/%2520/x")
    }

    @Test func signingKeyIsCachedPerSecretDateRegionAndService() {
        let cache = SigningKeyCache()
        let a = cache.signingKey(secret: "s", dateStamp: "20260101", region: "r", service: "s3")
        _ = cache.signingKey(secret: "s", dateStamp: "20260101", region: "r", service: "s3")
        #expect(cache.count == 1)
        _ = cache.signingKey(secret: "s", dateStamp: "20260102", region: "r", service: "s3")
        _ = cache.signingKey(secret: "s", dateStamp: "20260101", region: "r2", service: "s3")
        _ = cache.signingKey(secret: "s2", dateStamp: "20260101", region: "r", service: "s3")
        #expect(cache.count == 4)
        let direct = SigV4.signingKey(secret: "s", dateStamp: "20260101", region: "r", service: "s3")
        #expect(a == direct)
    }

    @Test func derivedKeyMatchesAWSDocumentedValue() {
        // AWS General Reference, "Examples of how to derive a signing key for Signature Version 4".
        let key = SigV4.signingKey(
            secret: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", dateStamp: "20120215", region: "us-east-1",
            service: "iam")
        #expect(
            key.withUnsafeBytes { PercentEncoding.hex($0) }
                == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d")
    }
}

struct SigV2Tests {
    @Test func canonicalResourceKeepsSubresourcesSortedAndDecoded() {
        let resource = SigV2Signer.canonicalResource(
            resourcePath: "/b/k%20ey",
            query: [
                ("response-content-type", "text/plain; a=b"), ("acl", nil), ("prefix", "x"), ("versionId", "3"),
            ])
        #expect(resource == "/b/k%20ey?acl&response-content-type=text/plain; a=b&versionId=3")
    }

    @Test func amzHeadersAreLowercasedSortedAndJoined() {
        let toSign = SigV2Signer.stringToSign(
            method: "PUT",
            headers: [
                ("Content-Type", "image/png"), ("X-Amz-Meta-B", "2"), ("x-amz-acl", "public-read"),
                ("X-AMZ-META-B", "3"), ("Content-MD5", "abc=="),
            ], dateOrExpires: "100", canonicalResource: "/b/k")
        #expect(toSign == "PUT\nabc==\nimage/png\n100\nx-amz-acl:public-read\nx-amz-meta-b:2,3\n/b/k")
    }

    @Test func headerAuthUsesTheSeedsAuthorizationForm() {
        let signer = SigV2Signer(credentials: .init(accessKeyId: "AK", secretAccessKey: "SK"), dialect: .s3fm)
        let signed = signer.signHeaders(
            method: "GET", resourcePath: "/b/", query: [("acl", nil)], headers: [],
            time: SigningTime(epochSeconds: 0))
        #expect(signed.stringToSign == "GET\n\n\nThu, 01 Jan 1970 00:00:00 GMT\n/b/?acl")
        #expect(signed.added.map(\.name) == ["Date", "Authorization"])
        #expect(signed.added[1].value == "AWS AK:\(signer.signature(stringToSign: signed.stringToSign))")
    }
}

struct PresignerValidationTests {
    static func presigner(_ addressing: Addressing = .path, _ signature: SignatureVersion = .v4, endpoint: String = "https://s3.example.com")
        throws -> S3Presigner
    {
        S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: endpoint), region: "us-east-1", addressing: addressing,
                signature: signature, credentials: .init(accessKeyId: "AK", secretAccessKey: "SK")))
    }

    static let now = SigningTime(epochSeconds: 1_795_680_000)

    @Test(arguments: [0, -5, 604_801])
    func v4ExpiryOutOfRangeIsATypedError(_ seconds: Int64) throws {
        #expect(throws: SigningError(.invalidExpiry, "SigV4 expiry must be between 1 and 604800 seconds (7 days); got \(seconds)")) {
            try Self.presigner().presign(.init(operation: .get, bucket: "b1", key: "k", expiry: .after(seconds: seconds)), now: Self.now)
        }
    }

    @Test func sevenDaysIsTheLongestV4Expiry() throws {
        let url = try Self.presigner().presign(
            .init(operation: .get, bucket: "b1", key: "k", expiry: .after(seconds: 604_800)), now: Self.now
        ).url
        #expect(url.contains("&X-Amz-Expires=604800&"))
    }

    @Test(arguments: ["UPPER", "a_b", "ab", "-ab", "a..b", "192.168.1.1", "dots.in.https"])
    func bucketsInvalidForVirtualAddressingAreRejected(_ bucket: String) throws {
        let error = #expect(throws: SigningError.self) {
            try Self.presigner(.virtual).presign(
                .init(operation: .get, bucket: bucket, key: "k", expiry: .after(seconds: 60)), now: Self.now)
        }
        #expect(error?.code == .invalidBucketName)
    }

    @Test func virtualAddressingOnAnIPEndpointFallsBackToPathStyle() throws {
        let url = try Self.presigner(.virtual, .v2, endpoint: "http://127.0.0.1:8333").presign(
            .init(operation: .get, bucket: "b1", key: "a b", expiry: .after(seconds: 60)), now: Self.now
        ).url
        #expect(url.hasPrefix("http://127.0.0.1:8333/b1/a%20b?AWSAccessKeyId=AK&Signature="))
    }

    @Test func vanityAddressingMakesTheBucketTheHost() throws {
        let presigner = try Self.presigner(.vanity, .s3fm, endpoint: "https://rest.s3for.me:8443")
        let url = try presigner.presign(
            .init(operation: .get, bucket: "files.example.com", key: "x/y.txt", expiry: .at(.init(epochSeconds: 1_795_680_060))),
            now: Self.now
        ).url
        let signer = SigV2Signer(credentials: .init(accessKeyId: "AK", secretAccessKey: "SK"), dialect: .s3fm)
        let expected = signer.signature(stringToSign: "GET\n\n\n1795680060\n/files.example.com/x/y.txt")
        #expect(
            url == "https://files.example.com:8443/x/y.txt?S3fmAccessKeyId=AK&Signature=\(PercentEncoding.encode(expected))&Expires=1795680060")
    }

    @Test func publicEndpointNamesTheHostClientsUse() throws {
        var configuration = try Self.presigner().configuration
        configuration.publicEndpoint = try S3Endpoint(parsing: "https://files.example.com")
        let url = try S3Presigner(configuration).presign(
            .init(operation: .get, bucket: "b1", key: "k", expiry: .after(seconds: 60)), now: Self.now
        ).url
        #expect(url.hasPrefix("https://files.example.com/b1/k?X-Amz-Algorithm="))
    }

    @Test func missingKeyAndReservedHeadersAreRejected() throws {
        #expect(throws: SigningError(.invalidKey, "object key is required")) {
            try Self.presigner().presign(.init(operation: .put, bucket: "b1", expiry: .after(seconds: 60)), now: Self.now)
        }
        #expect(throws: SigningError(.invalidHeader, "header 'Host' is set by the signer and cannot be given")) {
            try Self.presigner().presign(
                .init(operation: .put, bucket: "b1", key: "k", expiry: .after(seconds: 60), headers: [("Host", "x")]),
                now: Self.now)
        }
        #expect(throws: SigningError(.invalidEndpoint, "invalid endpoint 'ftp://x': must start with http:// or https://")) {
            try S3Endpoint(parsing: "ftp://x")
        }
    }

    @Test func bucketOperationsCarryTheirSubresource() throws {
        let presigner = try Self.presigner(.path, .v2)
        let url = try presigner.presign(
            .init(operation: .getBucketACL, bucket: "b1", expiry: .at(.init(epochSeconds: 1_795_680_060))), now: Self.now
        ).url
        let signer = SigV2Signer(credentials: .init(accessKeyId: "AK", secretAccessKey: "SK"), dialect: .aws)
        let signature = signer.signature(stringToSign: "GET\n\n\n1795680060\n/b1/?acl")
        #expect(url == "https://s3.example.com/b1/?acl&AWSAccessKeyId=AK&Signature=\(PercentEncoding.encode(signature))&Expires=1795680060")
        let all = try presigner.presign(.init(operation: .listAllMyBuckets, expiry: .after(seconds: 5)), now: Self.now).url
        #expect(all.hasPrefix("https://s3.example.com/?AWSAccessKeyId=AK&Signature="))
    }
}

struct PostPolicyTests {
    @Test func v4FormHasTheExactFieldsAndPolicy() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: "http://127.0.0.1:8333"), region: "us-east-1", addressing: .path,
                signature: .v4, credentials: .init(accessKeyId: "AK", secretAccessKey: "SK", sessionToken: "T")))
        let form = try presigner.presignPost(
            PostPolicy(
                bucket: "up", key: "users/42/${filename}", expiry: .after(seconds: 600),
                fields: [("Content-Type", "image/png")], conditions: [.contentLengthRange(min: 1, max: 10)]),
            now: SigningTime(epochSeconds: 1_795_680_000))
        #expect(form.url == "http://127.0.0.1:8333/up/")
        #expect(
            form.policyJSON
                == #"{"expiration":"2026-11-26T08:10:00Z","conditions":[{"bucket":"up"},["starts-with","$key","users/42/"],"#
                + #"{"Content-Type":"image/png"},["content-length-range",1,10],{"x-amz-algorithm":"AWS4-HMAC-SHA256"},"#
                + #"{"x-amz-credential":"AK/20261126/us-east-1/s3/aws4_request"},{"x-amz-date":"20261126T080000Z"},"#
                + #"{"x-amz-security-token":"T"}]}"#)
        #expect(
            form.fields.map(\.name) == [
                "key", "Content-Type", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token",
                "policy", "x-amz-signature",
            ])
        let policy = form.fields[6].value
        let key = SigV4.signingKey(secret: "SK", dateStamp: "20261126", region: "us-east-1", service: "s3")
        #expect(form.fields[7].value == SigV4.signature(stringToSign: policy, signingKey: key))
    }

    @Test func v2FormUsesTheDialectsKeyField() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: S3Endpoint(scheme: "https", host: "rest.s3for.me"), region: "us-east-1", addressing: .virtual,
                signature: .s3fm, credentials: .init(accessKeyId: "AK", secretAccessKey: "SK")))
        let form = try presigner.presignPost(
            PostPolicy(bucket: "up1", key: "a.txt", expiry: .after(seconds: 60)), now: SigningTime(epochSeconds: 0))
        #expect(form.url == "https://up1.rest.s3for.me/")
        #expect(form.fields.map(\.name) == ["key", "S3fmAccessKeyId", "policy", "signature"])
        #expect(form.policyJSON == #"{"expiration":"1970-01-01T00:01:00Z","conditions":[{"bucket":"up1"},{"key":"a.txt"}]}"#)
    }

    /// U+0600 is a prepended-concatenation mark: as Characters, "\u{0600}$" is one grapheme, so a Character search
    /// for `${filename}` misses it and an exact-key condition was signed where the engine had checked a prefix.
    @Test func filenameIsFoundByteForByteAfterAPrependMark() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: "http://127.0.0.1:8333"), region: "us-east-1", addressing: .path,
                signature: .v4, credentials: .init(accessKeyId: "AK", secretAccessKey: "SK")))
        let form = try presigner.presignPost(
            PostPolicy(bucket: "up", key: "in/\u{0600}${filename}", expiry: .after(seconds: 600)),
            now: SigningTime(epochSeconds: 1_795_680_000))
        #expect(
            form.policyJSON
                == #"{"expiration":"2026-11-26T08:10:00Z","conditions":[{"bucket":"up"},["starts-with","$key","in/\#u{0600}"],"#
                + #"{"x-amz-algorithm":"AWS4-HMAC-SHA256"},{"x-amz-credential":"AK/20261126/us-east-1/s3/aws4_request"},"#
                + #"{"x-amz-date":"20261126T080000Z"}]}"#)
    }

    @Test func emptyLengthRangeIsRejected() throws {
        let presigner = try PresignerValidationTests.presigner()
        let error = #expect(throws: SigningError.self) {
            try presigner.presignPost(
                PostPolicy(bucket: "b1", key: "k", expiry: .after(seconds: 60), conditions: [.contentLengthRange(min: 5, max: 1)]),
                now: SigningTime(epochSeconds: 0))
        }
        #expect(error?.code == .invalidPolicy)
    }
}

/// Differential: `iso8601` against Foundation's formatter for seeded random instants from 1970 to 9999.
@Test func iso8601AgreesWithFoundationAcrossTheRange() {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = TimeZone(identifier: "UTC")
    var state = UInt64.random(in: 0...UInt64.max)
    let seed = state
    for index in 0..<5000 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let epoch = index == 0 ? 0 : (index == 1 ? SigningTime.latest.epochSeconds : Int64(state >> 1) % (SigningTime.latest.epochSeconds + 1))
        let time = SigningTime(epochSeconds: epoch)
        #expect(time.iso8601 == formatter.string(from: Date(timeIntervalSince1970: Double(epoch))), "seed \(seed) epoch \(epoch)")
        #expect(SigningTime(iso8601: time.iso8601) == time)
    }
}
