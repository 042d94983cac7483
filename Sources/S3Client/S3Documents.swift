import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// S3's XML documents as typed values, read with Foundation's XMLParser (libxml2's SAX parser) into a small
/// element tree. Element names are matched by local name, so documents with or without S3's namespace read the
/// same; malformed documents are refused.
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

    static func root(_ data: [UInt8], expecting name: String) throws(ParseError) -> XMLNodeTree {
        let root = try parse(data)
        guard root.name == name else { throw ParseError(message: "expected <\(name)>, got <\(root.name)>") }
        return root
    }

    /// S3's documents are a few levels deep. A backend that nests deeper is refused before the tree (and the
    /// parser's recursion) can exhaust the worker's stack.
    static let maxDepth = 32

    static func parse(_ data: [UInt8]) throws(ParseError) -> XMLNodeTree {
        // S3 never sends a DTD; refusing one shuts out entity expansion and external entities whatever the
        // XML library's defaults are.
        if data.firstRange(of: Array("<!DOCTYPE".utf8)) != nil {
            throw ParseError(message: "XML with a DOCTYPE is refused")
        }
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(data))
        parser.shouldProcessNamespaces = true
        parser.shouldResolveExternalEntities = false
        parser.delegate = builder
        let parsed = parser.parse()
        if builder.tooDeep { throw ParseError(message: "XML nested deeper than \(maxDepth) levels") }
        guard parsed, let root = builder.root else {
            throw ParseError(message: builder.root == nil && builder.sawElement == false && parser.parserError == nil
                ? "empty XML document" : "not well-formed XML")
        }
        return root
    }

    final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: XMLNodeTree?
        var stack: [XMLNodeTree] = []
        var sawElement = false
        var tooDeep = false

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            sawElement = true
            guard stack.count < S3XML.maxDepth else {
                tooDeep = true
                parser.abortParsing()
                return
            }
            var local: [String: String] = [:]
            for (key, value) in attributes { local[String(key.split(separator: ":").last ?? Substring(key))] = value }
            let node = XMLNodeTree(name: String(elementName.split(separator: ":").last ?? Substring(elementName)), attributes: local)
            stack.last?.children.append(node)
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            guard !tooDeep, let node = stack.popLast() else { return }
            if stack.isEmpty { root = node }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

/// One element: local name, attributes by local name, text, child elements.
final class XMLNodeTree {
    let name: String
    let attributes: [String: String]
    var text = ""
    var children: [XMLNodeTree] = []

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    func children(_ name: String) -> [XMLNodeTree] { children.filter { $0.name == name } }
    func child(_ name: String) -> XMLNodeTree? { children.first { $0.name == name } }
    func text(_ name: String) -> String? { child(name)?.text }
    var stringValue: String? { text }
}

public struct S3Owner: Sendable, Equatable {
    public var id: String?
    public var displayName: String?

    init?(_ element: XMLNodeTree?) {
        guard let element else { return nil }
        id = element.text("ID")
        displayName = element.text("DisplayName")
    }

}

/// `GET /` (list_all_my_buckets).
public struct ListAllMyBucketsResult: Sendable, Equatable {
    public struct Bucket: Sendable, Equatable {
        public var name: String
        public var creationDate: String?

    }

    public var owner: S3Owner?
    public var buckets: [Bucket]

    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.root(xml, expecting: "ListAllMyBucketsResult")
        owner = S3Owner(root.child("Owner"))
        buckets = (root.child("Buckets")?.children("Bucket") ?? []).map {
            Bucket(name: $0.text("Name") ?? "", creationDate: $0.text("CreationDate"))
        }
    }
}

/// `GET /bucket` (list_bucket, ListObjects v1 and v2).
public struct ListBucketResult: Sendable, Equatable {
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

    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.root(xml, expecting: "ListBucketResult")
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
public struct LocationConstraint: Sendable, Equatable {
    public var location: String

    /// S3 answers `<LocationConstraint>EU</LocationConstraint>`; some servers (SeaweedFS 4.48) wrap it in
    /// `<CreateBucketConfiguration>`. Both read the same; no constraint at all means the default ("").
    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.parse(xml)
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
public struct AccessControlPolicy: Sendable, Equatable {
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

    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.root(xml, expecting: "AccessControlPolicy")
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
public struct BucketLoggingStatus: Sendable, Equatable {
    public var enabled: Bool
    public var targetBucket: String?
    public var targetPrefix: String?

    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.root(xml, expecting: "BucketLoggingStatus")
        let enabledElement = root.child("LoggingEnabled")
        enabled = enabledElement != nil
        targetBucket = enabledElement?.text("TargetBucket")
        targetPrefix = enabledElement?.text("TargetPrefix")
    }
}

/// An S3 error document, with the HTTP status it came with.
public struct S3ErrorDocument: Sendable, Equatable {
    public var code: String
    public var message: String
    public var requestId: String?
    public var resource: String?

    public init(xml: [UInt8]) throws(S3XML.ParseError) {
        let root = try S3XML.root(xml, expecting: "Error")
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
