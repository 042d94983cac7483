import Foundation
import S3Client
import Testing

/// S3's XML documents (as S3 and SeaweedFS send them) and the exact requests the connection signs.
struct S3DocumentTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test func listAllMyBuckets() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>bcaf1ffd86f461ca5fb16fd081034f</ID><DisplayName>webfile</DisplayName></Owner><Buckets><Bucket><Name>quotes</Name><CreationDate>2006-02-03T16:45:09.000Z</CreationDate></Bucket><Bucket><Name>samples</Name><CreationDate>2006-02-03T16:41:58.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>
            """
        let result = try ListAllMyBucketsResult(xml: Self.bytes(xml))
        #expect(result.owner?.id == "bcaf1ffd86f461ca5fb16fd081034f" && result.owner?.displayName == "webfile")
        #expect(result.buckets.map(\.name) == ["quotes", "samples"])
        #expect(result.buckets.map(\.creationDate) == ["2006-02-03T16:45:09.000Z", "2006-02-03T16:41:58.000Z"])
    }

    @Test func listBucketWithPrefixesAndEscapes() throws {
        let xml = """
            <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>docs/</Prefix><Marker></Marker><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated><NextMarker>docs/b</NextMarker><Contents><Key>docs/a &amp; b.txt</Key><LastModified>2026-11-26T10:00:00.000Z</LastModified><ETag>&quot;828ef3fdfa96f00ad9f27c383fc9ac7f&quot;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass></Contents><CommonPrefixes><Prefix>docs/sub/</Prefix></CommonPrefixes></ListBucketResult>
            """
        let result = try ListBucketResult(xml: Self.bytes(xml))
        #expect(result.name == "bucket" && result.prefix == "docs/" && result.delimiter == "/" && result.maxKeys == 1000)
        #expect(result.isTruncated && result.nextMarker == "docs/b" && result.marker == "")
        #expect(result.objects.count == 1)
        let object = try #require(result.objects.first)
        #expect(object.key == "docs/a & b.txt" && object.lastModified == "2026-11-26T10:00:00.000Z")
        #expect(object.etag == "\"828ef3fdfa96f00ad9f27c383fc9ac7f\"" && object.size == 5 && object.storageClass == "STANDARD")
        #expect(result.commonPrefixes == ["docs/sub/"])
    }

    @Test func locationInBothShapes() throws {
        #expect(try LocationConstraint(xml: Self.bytes(#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">EU</LocationConstraint>"#)).location == "EU")
        #expect(try LocationConstraint(xml: Self.bytes(#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#)).location == "")
        // SeaweedFS 4.48's answer.
        #expect(try LocationConstraint(xml: Self.bytes(#"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint></LocationConstraint></CreateBucketConfiguration>"#)).location == "")
    }

    @Test func accessControlPolicy() throws {
        let xml = """
            <AccessControlPolicy><Owner><ID>test</ID><DisplayName>test</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>test</ID><DisplayName>test</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>
            """
        let policy = try AccessControlPolicy(xml: Self.bytes(xml))
        #expect(policy.owner?.id == "test")
        #expect(policy.grants.map(\.permission) == ["FULL_CONTROL", "READ"])
        #expect(policy.grants[0].granteeType == "CanonicalUser" && policy.grants[0].id == "test")
        #expect(policy.grants[1].granteeType == "Group" && policy.grants[1].uri == "http://acs.amazonaws.com/groups/global/AllUsers")
    }

    @Test func bucketLogging() throws {
        #expect(try BucketLoggingStatus(xml: Self.bytes(#"<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></BucketLoggingStatus>"#)).enabled == false)
        let on = try BucketLoggingStatus(xml: Self.bytes(#"<BucketLoggingStatus><LoggingEnabled><TargetBucket>logs</TargetBucket><TargetPrefix>access/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>"#))
        #expect(on.enabled && on.targetBucket == "logs" && on.targetPrefix == "access/")
    }

    @Test func errorDocuments() throws {
        let s3 = try S3ErrorDocument(xml: Self.bytes("""
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>NoSuchKey</Code><Message>The resource you requested does not exist</Message><Resource>/mybucket/myfoto.jpg</Resource><RequestId>4442587FB7D0A2F9</RequestId></Error>
            """))
        #expect(s3.code == "NoSuchKey" && s3.message == "The resource you requested does not exist")
        #expect(s3.requestId == "4442587FB7D0A2F9" && s3.resource == "/mybucket/myfoto.jpg")
        let seaweed = try S3ErrorDocument(xml: Self.bytes(#"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" + #"<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to delete is not empty</Message><Resource>/b</Resource><RequestId>18EB92574063D9F2DC660F8A</RequestId></Error>"#))
        #expect(seaweed.code == "BucketNotEmpty" && seaweed.message == "The bucket you tried to delete is not empty")
        #expect(throws: S3XML.ParseError(message: "not well-formed XML")) { try S3ErrorDocument(xml: Self.bytes("<Error><Code>")) }
        #expect(throws: S3XML.ParseError(message: "not well-formed XML")) { try S3ErrorDocument(xml: Self.bytes("<<< not xml")) }
        #expect(throws: S3XML.ParseError(message: "expected <Error>, got <ListBucketResult>")) {
            try S3ErrorDocument(xml: Self.bytes("<ListBucketResult/>"))
        }
    }
}

/// The create_located_bucket document: the admin's `?location=` value is a region name, never markup.
struct CreateBucketConfigurationTests {
    static func document(_ location: String) -> String {
        #"<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>"#
            + location + "</LocationConstraint></CreateBucketConfiguration>"
    }

    @Test(arguments: ["EU", "eu-west-1", "us-gov-west-1", "cn_north.1"])
    func aRegionNameIsWrittenAsIs(_ location: String) throws {
        #expect(try S3fmAuthConnection.createBucketConfiguration(location: location) == Array(Self.document(location).utf8))
    }

    @Test(arguments: ["EU</LocationConstraint><Evil/>", "a&b", "eu west", "", String(repeating: "a", count: 65), "ünï", "a\"b"])
    func anythingElseIsRefusedBeforeSending(_ location: String) {
        #expect(throws: S3Error.invalid("location '\(location)' is not a region name: use 1-64 letters, digits, '-', '_' or '.'")) {
            try S3fmAuthConnection.createBucketConfiguration(location: location)
        }
    }

    @Test func xmlTextIsEscaped() {
        #expect(S3XML.escape(#"a<b>&"c'd"#) == "a&lt;b&gt;&amp;&quot;c&apos;d")
        #expect(S3XML.escape("plain-text_1.2") == "plain-text_1.2")
    }
}

/// What a hostile backend can send as a document: deep nesting, entity tricks, external entities.
struct HostileDocumentTests {
    @Test func deeplyNestedXMLIsRefusedWithoutCrashing() {
        let depth = 200_000
        let xml = "<Error>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</Error>"
        #expect(throws: S3XML.ParseError(message: "XML nested deeper than 32 levels")) { try S3ErrorDocument(xml: Array(xml.utf8)) }
    }

    @Test func nestingWithinTheLimitStillParses() throws {
        let depth = 31
        let xml = "<Error><Code>X</Code>" + String(repeating: "<a>", count: depth) + String(repeating: "</a>", count: depth) + "</Error>"
        #expect(try S3ErrorDocument(xml: Array(xml.utf8)).code == "X")
    }

    @Test func externalEntitiesAreNotRead() {
        let xml = """
            <?xml version="1.0"?><!DOCTYPE Error [<!ENTITY x SYSTEM "file:///etc/passwd">]><Error><Code>&x;</Code><Message>m</Message></Error>
            """
        #expect(throws: S3XML.ParseError(message: "XML with a DOCTYPE is refused")) { try S3ErrorDocument(xml: Array(xml.utf8)) }
    }

    @Test func entityExpansionIsRefused() {
        var xml = #"<?xml version="1.0"?><!DOCTYPE Error [<!ENTITY e0 "ha">"#
        for level in 1...10 { xml += "<!ENTITY e\(level) \"" + String(repeating: "&e\(level - 1);", count: 10) + "\">" }
        xml += "]><Error><Code>&e10;</Code><Message>m</Message></Error>"
        #expect(throws: S3XML.ParseError(message: "XML with a DOCTYPE is refused")) { try S3ErrorDocument(xml: Array(xml.utf8)) }
    }
}
