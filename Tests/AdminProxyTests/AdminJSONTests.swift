import S3Client
import Testing

@testable import AdminProxy

/// The admin API's JSON bodies, byte for byte: member order, `null` for absent S3 fields, escaping.
struct AdminJSONTests {
    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static let bucketsXML = """
        <ListAllMyBucketsResult><Owner><ID>o1</ID></Owner><Buckets>\
        <Bucket><Name>alpha</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate></Bucket>\
        <Bucket><Name>beta</Name></Bucket></Buckets></ListAllMyBucketsResult>
        """

    static let listXML = """
        <ListBucketResult><Name>b</Name><Prefix>docs/</Prefix><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>\
        <NextContinuationToken>tok</NextContinuationToken>\
        <Contents><Key>docs/a "quoted"\tkey</Key><LastModified>2024-01-02T03:04:05.000Z</LastModified>\
        <ETag>"e1"</ETag><Size>12</Size><StorageClass>STANDARD</StorageClass></Contents>\
        <Contents><Key>docs/b</Key><Size>0</Size></Contents>\
        <CommonPrefixes><Prefix>docs/sub/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>docs/z/</Prefix></CommonPrefixes>\
        </ListBucketResult>
        """

    @Test func aBucketListingHasItsOwnerAndEveryBucketWithNullForAMissingDate() throws {
        let result = try ListAllMyBucketsResult(xml: Array(Self.bucketsXML.utf8))
        #expect(Self.text(AdminJSON.buckets(result)) == #"""
            {"owner":{"id":"o1","display_name":null},"buckets":[{"name":"alpha","creation_date":"2024-01-02T03:04:05.000Z"},{"name":"beta","creation_date":null}]}
            """#)
    }

    @Test func aBucketListingWithoutOwnerOrBucketsIsNullAndAnEmptyArray() throws {
        let result = try ListAllMyBucketsResult(xml: Array("<ListAllMyBucketsResult/>".utf8))
        #expect(Self.text(AdminJSON.buckets(result)) == #"{"owner":null,"buckets":[]}"#)
    }

    @Test func anObjectListingKeepsTheSeedsMemberOrderAndTakesTheV2TokenAsNextMarker() throws {
        let result = try ListBucketResult(xml: Array(Self.listXML.utf8))
        #expect(Self.text(AdminJSON.list(result)) == #"""
            {"name":"b","prefix":"docs/","marker":null,"next_marker":"tok","max_keys":null,"delimiter":"/","is_truncated":true,"objects":[{"key":"docs/a \"quoted\"\tkey","last_modified":"2024-01-02T03:04:05.000Z","etag":"\"e1\"","size":12,"storage_class":"STANDARD"},{"key":"docs/b","last_modified":null,"etag":null,"size":0,"storage_class":null}],"common_prefixes":["docs/sub/","docs/z/"]}
            """#)
    }

    @Test func anEmptyObjectListingHasItsMaxKeysAndEmptyArrays() throws {
        let xml = "<ListBucketResult><Name>b</Name><Marker>m</Marker><MaxKeys>5</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>"
        let result = try ListBucketResult(xml: Array(xml.utf8))
        #expect(Self.text(AdminJSON.list(result)) == #"""
            {"name":"b","prefix":"","marker":"m","next_marker":null,"max_keys":5,"delimiter":null,"is_truncated":false,"objects":[],"common_prefixes":[]}
            """#)
    }

    @Test func createdStoredAndLocationBodiesAreOneOrTwoMembers() {
        #expect(Self.text(AdminJSON.created(bucket: "b")) == #"{"bucket":"b"}"#)
        #expect(Self.text(AdminJSON.stored(bucket: "b", key: "dir/\u{1}k")) == #"{"bucket":"b","key":"dir/\u0001k"}"#)
        #expect(Self.text(AdminJSON.location("eu-west-1")) == #"{"location":"eu-west-1"}"#)
    }
}
