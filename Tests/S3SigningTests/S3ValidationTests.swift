import S3Signing
import Testing

/// With vanity addressing the bucket is the host that presignd's admin proxy (and anyone holding a URL) connects to,
/// so a bucket name must be a real DNS name: never an address, in any notation `inet_aton` or libcurl accepts.
struct VanityBucketTests {
    static let now = SigningTime(epochSeconds: 1_795_680_000)

    static func presigner(_ addressing: Addressing = .vanity, endpoint: String = "http://s3.example.com:8333",
                          vanityDomains: [String] = []) throws -> S3Presigner {
        S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: endpoint), region: "us-east-1", addressing: addressing, signature: .v4,
                credentials: .init(accessKeyId: "AK", secretAccessKey: "SK"), vanityDomains: vanityDomains))
    }

    static func ipMessage(_ bucket: String) -> String {
        "bucket name '\(bucket)' is an IP address or ends in a number as one does; vanity addressing needs a DNS name "
            + "(the bucket is the host)"
    }

    @Test(arguments: [
        "127.0.0.1", "169.254.169.254", "0x7f.1", "2130706433", "0x7f000001", "0177.0.0.1", "017700000001", "127.1",
        "10.1.2", "1.2.3.0x4", "1.2.3.4.5", "example.123",
    ])
    func bucketsThatAreIPAddressesInAnyNotationAreRefusedForSigningAndPresigning(_ bucket: String) throws {
        let presigner = try Self.presigner()
        #expect(throws: SigningError(.invalidBucketName, Self.ipMessage(bucket))) {
            try presigner.signRequest(.get, bucket: bucket, key: "k", now: Self.now)
        }
        #expect(throws: SigningError(.invalidBucketName, Self.ipMessage(bucket))) {
            try presigner.presign(.init(operation: .get, bucket: bucket, key: "k", expiry: .after(seconds: 60)), now: Self.now)
        }
        #expect(throws: SigningError(.invalidBucketName, Self.ipMessage(bucket))) {
            try presigner.presignPost(.init(bucket: bucket, key: "k", expiry: .after(seconds: 60)), now: Self.now)
        }
    }

    @Test(arguments: ["[::1]", "::1", "[::ffff:127.0.0.1]", "LOCALHOST", "a..b.com", "-a.example.com", "a_b.example.com"])
    func bucketsThatAreNotHostNamesAreRefused(_ bucket: String) throws {
        #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is not a host name, which vanity addressing needs (the bucket is the host)")) {
            try Self.presigner().signRequest(.get, bucket: bucket, key: "k", now: Self.now)
        }
    }

    @Test(arguments: ["localhost", "metadata", "intranet"])
    func singleLabelBucketsAreRefused(_ bucket: String) throws {
        #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is a single label; vanity addressing needs a DNS name with a dot (the bucket is the host)")) {
            try Self.presigner().signRequest(.get, bucket: bucket, key: "k", now: Self.now)
        }
    }

    @Test(arguments: ["a.localhost", "metadata.google.localhost"])
    func bucketsUnderLocalhostAreRefused(_ bucket: String) throws {
        #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is under localhost, which always names this machine")) {
            try Self.presigner().signRequest(.get, bucket: bucket, key: "k", now: Self.now)
        }
    }

    @Test func labelsOver63BytesAndNamesOver253BytesAreRefused() throws {
        let longLabel = String(repeating: "a", count: 64) + ".example.com"
        let longName = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".") + ".com"
        for bucket in [longLabel, longName] {
            #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is not a host name, which vanity addressing needs (the bucket is the host)")) {
                try Self.presigner().signRequest(.get, bucket: bucket, key: "k", now: Self.now)
            }
        }
        let longest = Array(repeating: String(repeating: "a", count: 63), count: 3).joined(separator: ".") + ".example.c"
        #expect(longest.utf8.count == 201)
        #expect(try Self.presigner().signRequest(.get, bucket: longest, key: "k", now: Self.now).url == "http://\(longest):8333/k")
    }

    @Test func aDNSNameIsTheHost() throws {
        #expect(try Self.presigner().signRequest(.get, bucket: "files.example.com", key: "a b", now: Self.now).url
            == "http://files.example.com:8333/a%20b")
        #expect(try Self.presigner().signRequest(.get, bucket: "1.example.com", key: "k", now: Self.now).url
            == "http://1.example.com:8333/k")
    }

    @Test func withVanityDomainsOnlyNamesUnderThemAreAllowed() throws {
        let presigner = try Self.presigner(vanityDomains: ["example.com", "cdn.example.org"])
        for bucket in ["example.com", "files.example.com", "a.b.example.com", "cdn.example.org", "x.cdn.example.org"] {
            #expect(try presigner.signRequest(.get, bucket: bucket, key: "k", now: Self.now).url == "http://\(bucket):8333/k")
        }
        for bucket in ["badexample.com", "example.com.evil.net", "example.org", "xcdn.example.org", "files.example.net"] {
            #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is not under an allowed vanity domain (example.com, cdn.example.org)")) {
                try presigner.signRequest(.get, bucket: bucket, key: "k", now: Self.now)
            }
            #expect(throws: SigningError(.invalidBucketName, "bucket name '\(bucket)' is not under an allowed vanity domain (example.com, cdn.example.org)")) {
                try presigner.presign(.init(operation: .get, bucket: bucket, key: "k", expiry: .after(seconds: 60)), now: Self.now)
            }
        }
    }
}

/// Virtual-hosted addressing makes the bucket a label of the endpoint's host; an endpoint that is an address in any
/// notation has no such labels, so the URL falls back to path style.
struct EndpointAddressTests {
    @Test(arguments: [
        "http://127.0.0.1:8333", "http://2130706433:8333", "http://0x7f000001", "http://0x7f.1", "http://127.1",
        "http://0177.0.0.1", "http://[::1]:8333",
    ])
    func endpointsThatAreAddressesInAnyNotationAreAddresses(_ text: String) throws {
        #expect(try S3Endpoint(parsing: text).isIPAddress)
    }

    @Test(arguments: ["http://s3.example.com", "http://localhost:8333", "http://1.example.com", "http://s3-1.example.com"])
    func endpointsWithDNSNamesAreNotAddresses(_ text: String) throws {
        #expect(try S3Endpoint(parsing: text).isIPAddress == false)
    }

    @Test func virtualAddressingOnAHexEndpointFallsBackToPathStyle() throws {
        let presigner = try VanityBucketTests.presigner(.virtual, endpoint: "http://0x7f000001:8333")
        #expect(try presigner.signRequest(.get, bucket: "b1", key: "k", now: VanityBucketTests.now).url
            == "http://0x7f000001:8333/b1/k")
    }
}

/// A lifetime from a caller (the CLI's --expires) cannot overflow the clock: SigV2 and POST expiries past
/// 9999-12-31T23:59:59Z are refused instead of trapping.
struct ExpiryOverflowTests {
    @Test func aSigV2ExpiryPastYear9999IsATypedErrorNotATrap() throws {
        let presigner = S3Presigner(
            .init(endpoint: try S3Endpoint(parsing: "https://s3.example.com"), region: "us-east-1", signature: .v2,
                  credentials: .init(accessKeyId: "AK", secretAccessKey: "SK")))
        for seconds in [Int64.max, 253_402_300_800 - VanityBucketTests.now.epochSeconds] {
            #expect(throws: SigningError(.invalidExpiry, "expiry of \(seconds) seconds ends after 9999-12-31T23:59:59Z")) {
                try presigner.presign(.init(operation: .get, bucket: "b1", key: "k", expiry: .after(seconds: seconds)), now: VanityBucketTests.now)
            }
            #expect(throws: SigningError(.invalidExpiry, "expiry of \(seconds) seconds ends after 9999-12-31T23:59:59Z")) {
                try presigner.presignPost(.init(bucket: "b1", key: "k", expiry: .after(seconds: seconds)), now: VanityBucketTests.now)
            }
        }
        let last = 253_402_300_799 - VanityBucketTests.now.epochSeconds
        #expect(try presigner.presign(.init(operation: .get, bucket: "b1", key: "k", expiry: .after(seconds: last)), now: VanityBucketTests.now)
            .expires == SigningTime.latest)
    }
}
