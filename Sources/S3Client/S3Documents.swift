/// S3's XML documents as typed values, read with presignd's bounded pull parser (`XMLPullParser`, `S3XML.Reader`)
/// as the bytes arrive. Each document names the elements it uses (its `S3XML.Schema`); nothing else is kept.
/// Element names are matched by local name, so documents with or without S3's namespace read the same; malformed
/// documents, a DOCTYPE, and anything over `XMLPullParser.Limits` are refused.
public enum S3XML {
    public struct ParseError: Error, Sendable, Equatable {
        public let message: String

        public init(message: String) { self.message = message }
    }

    /// Text for an XML element or attribute value: the five markup characters as entities.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}

/// A document read from S3: the elements it keeps, and how it is made from its root.
protocol S3XMLDocument {
    static var schema: S3XML.Schema { get }
    init(root: S3XML.Element) throws(S3XML.ParseError)
}

extension S3XMLDocument {
    /// Reads a whole document (one already buffered: error bodies, tests).
    init(reading xml: [UInt8]) throws(S3XML.ParseError) {
        try self.init(root: try S3XML.read(xml, Self.schema))
    }
}

public struct S3Owner: Sendable, Equatable {
    public var id: String?
    public var displayName: String?

    static let fields = ["ID", "DisplayName"]

    init?(_ element: S3XML.Element?) {
        guard let element else { return nil }
        id = element.text("ID")
        displayName = element.text("DisplayName")
    }

}

/// `GET /` (list_all_my_buckets).
public struct ListAllMyBucketsResult: Sendable, Equatable, S3XMLDocument {
    public struct Bucket: Sendable, Equatable {
        public var name: String
        public var creationDate: String?

    }

    public var owner: S3Owner?
    public var buckets: [Bucket]

    static let schema = S3XML.Schema(["ListAllMyBucketsResult": S3Owner.fields.map { "Owner/\($0)" } + ["Buckets/Bucket/Name", "Buckets/Bucket/CreationDate"]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "ListAllMyBucketsResult")
        owner = S3Owner(root.child("Owner"))
        buckets = (root.child("Buckets")?.children("Bucket") ?? []).map {
            Bucket(name: $0.text("Name") ?? "", creationDate: $0.text("CreationDate"))
        }
    }
}

/// `GET /bucket` (list_bucket, ListObjects v1 and v2).
public struct ListBucketResult: Sendable, Equatable, S3XMLDocument {
    public struct Object: Sendable, Equatable {
        public var key: String
        public var lastModified: String?
        public var etag: String?
        public var size: Int64
        public var storageClass: String?

    }

    public var name: String
    public var prefix: String
    public var marker: String?
    public var nextMarker: String?
    public var maxKeys: Int?
    public var delimiter: String?
    public var isTruncated: Bool
    public var objects: [Object]
    public var commonPrefixes: [String]
    public var continuationToken: String?
    public var nextContinuationToken: String?
    public var keyCount: Int?

    static let schema = S3XML.Schema(["ListBucketResult": [
        "Name", "Prefix", "Marker", "NextMarker", "MaxKeys", "Delimiter", "IsTruncated", "ContinuationToken",
        "NextContinuationToken", "KeyCount", "Contents/Key", "Contents/LastModified", "Contents/ETag", "Contents/Size",
        "Contents/StorageClass", "CommonPrefixes/Prefix",
    ]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "ListBucketResult")
        name = root.text("Name") ?? ""
        prefix = root.text("Prefix") ?? ""
        marker = root.text("Marker")
        nextMarker = root.text("NextMarker")
        maxKeys = root.text("MaxKeys").flatMap { Int($0) }
        delimiter = root.text("Delimiter")
        isTruncated = root.text("IsTruncated") == "true"
        objects = root.children("Contents").map {
            Object(key: $0.text("Key") ?? "", lastModified: $0.text("LastModified"), etag: $0.text("ETag"),
                   size: $0.text("Size").flatMap { Int64($0) } ?? 0, storageClass: $0.text("StorageClass"))
        }
        commonPrefixes = root.children("CommonPrefixes").compactMap { $0.text("Prefix") }
        continuationToken = root.text("ContinuationToken")
        nextContinuationToken = root.text("NextContinuationToken")
        keyCount = root.text("KeyCount").flatMap { Int($0) }
    }
}

/// `GET /bucket?location`: the region, "" for the default.
public struct LocationConstraint: Sendable, Equatable, S3XMLDocument {
    public var location: String

    /// S3 answers `<LocationConstraint>EU</LocationConstraint>`; some servers (SeaweedFS 4.48) wrap it in
    /// `<CreateBucketConfiguration>`. Both read the same; no constraint at all means the default ("").
    static let schema = S3XML.Schema(["LocationConstraint": [""], "CreateBucketConfiguration": ["LocationConstraint"]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        if root.name == "LocationConstraint" {
            location = root.text
        } else if root.name == "CreateBucketConfiguration" {
            location = root.text("LocationConstraint") ?? ""
        } else {
            throw S3XML.ParseError(message: "expected <LocationConstraint>, got <\(root.name)>")
        }
    }
}

/// `GET ...?acl`.
public struct AccessControlPolicy: Sendable, Equatable, S3XMLDocument {
    public struct Grant: Sendable, Equatable {
        public var granteeType: String?
        public var id: String?
        public var displayName: String?
        public var uri: String?
        public var email: String?
        public var permission: String
    }

    public var owner: S3Owner?
    public var grants: [Grant]

    static let schema = S3XML.Schema(["AccessControlPolicy": S3Owner.fields.map { "Owner/\($0)" } + [
        "AccessControlList/Grant/Grantee@", "AccessControlList/Grant/Permission",
    ] + ["ID", "DisplayName", "URI", "EmailAddress"].map { "AccessControlList/Grant/Grantee/\($0)" }])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "AccessControlPolicy")
        owner = S3Owner(root.child("Owner"))
        grants = (root.child("AccessControlList")?.children("Grant") ?? []).map { grant in
            let grantee = grant.child("Grantee")
            let type = grantee?.attributes["type"]
            return Grant(
                granteeType: type, id: grantee?.text("ID"), displayName: grantee?.text("DisplayName"),
                uri: grantee?.text("URI"), email: grantee?.text("EmailAddress"), permission: grant.text("Permission") ?? "")
        }
    }
}

/// `GET /bucket?logging`.
public struct BucketLoggingStatus: Sendable, Equatable, S3XMLDocument {
    public var enabled: Bool
    public var targetBucket: String?
    public var targetPrefix: String?

    static let schema = S3XML.Schema(["BucketLoggingStatus": ["LoggingEnabled/TargetBucket", "LoggingEnabled/TargetPrefix"]])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "BucketLoggingStatus")
        let enabledElement = root.child("LoggingEnabled")
        enabled = enabledElement != nil
        targetBucket = enabledElement?.text("TargetBucket")
        targetPrefix = enabledElement?.text("TargetPrefix")
    }
}

/// An S3 error document, with the HTTP status it came with.
public struct S3ErrorDocument: Sendable, Equatable, S3XMLDocument {
    public var code: String
    public var message: String
    public var requestId: String?
    public var resource: String?

    static let fields = ["Code", "Message", "RequestId", "Resource"]
    static let schema = S3XML.Schema(["Error": fields])

    public init(xml: [UInt8]) throws(S3XML.ParseError) { try self.init(reading: xml) }

    init(root: S3XML.Element) throws(S3XML.ParseError) {
        try S3XML.expect(root, "Error")
        code = root.text("Code") ?? ""
        message = root.text("Message") ?? ""
        requestId = root.text("RequestId")
        resource = root.text("Resource")
    }

    public init(code: String, message: String, requestId: String? = nil) {
        self.code = code
        self.message = message
        self.requestId = requestId
    }
}
