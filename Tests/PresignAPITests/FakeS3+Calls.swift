import Foundation

/// What `FakeS3` does with each kind of call, and the documents it answers with (S3's element names and order).
extension FakeS3 {
    static let xmlns = #" xmlns="http://s3.amazonaws.com/doc/2006-03-01/""#

    static func listBuckets(_ state: State) -> Answer {
        let buckets = state.buckets.keys.sorted().map { "<Bucket><Name>\(escape($0))</Name><CreationDate>\(stamp)</CreationDate></Bucket>" }
        return .xml("<ListAllMyBucketsResult\(xmlns)><Owner><ID>fake-owner</ID><DisplayName>fake</DisplayName></Owner><Buckets>\(buckets.joined())</Buckets></ListAllMyBucketsResult>")
    }

    static func bucketCall(_ method: String, _ bucket: String, _ names: Set<String>, _ query: [(String, String)], _ state: inout State) -> Answer {
        let resource = "/" + bucket
        if method == "PUT" && !names.contains("acl") && !names.contains("logging") {
            guard state.buckets[bucket] == nil else { return .error(409, "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", resource: resource) }
            state.buckets[bucket] = [:]
            return .empty(200)
        }
        guard let objects = state.buckets[bucket] else { return .error(404, "NoSuchBucket", "The specified bucket does not exist", resource: resource) }
        switch method {
        case "DELETE":
            guard objects.isEmpty else { return .error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty", resource: resource) }
            state.buckets[bucket] = nil
            return .empty(204)
        case "GET" where names.contains("location"):
            return .xml("<LocationConstraint\(xmlns)>eu-west-1</LocationConstraint>")
        case "GET" where names.contains("acl"):
            return .xml("<AccessControlPolicy\(xmlns)><Owner><ID>fake-owner</ID><DisplayName>fake</DisplayName></Owner><AccessControlList><Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"><ID>fake-owner</ID><DisplayName>fake</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>")
        case "GET":
            return list(bucket, objects, query)
        default:
            return .error(501, "NotImplemented", "A header you provided implies functionality that is not implemented", resource: resource)
        }
    }

    /// ListObjects (v1, or v2 with `list-type=2`): prefix, delimiter, max-keys, marker or continuation token.
    static func list(_ bucket: String, _ objects: [String: Object], _ query: [(String, String)]) -> Answer {
        func value(_ name: String) -> String? { query.first { $0.0 == name }?.1 }
        let v2 = value("list-type") == "2"
        let prefix = value("prefix") ?? ""
        let delimiter = value("delimiter")
        let maxKeys = value("max-keys").flatMap { Int($0) } ?? 1000
        let after = (v2 ? value("continuation-token") ?? value("start-after") : value("marker")) ?? ""
        var contents: [String] = []
        var prefixes: [String] = []
        var last = ""
        var truncated = false
        for key in objects.keys.sorted() where key.hasPrefix(prefix) && key > after {
            var common: String?
            if let delimiter, !delimiter.isEmpty, let range = key.dropFirst(prefix.count).range(of: delimiter) {
                common = String(key[..<range.upperBound])
                if prefixes.last == common { continue }
            }
            if contents.count + prefixes.count == maxKeys {
                truncated = true
                break
            }
            if let common {
                prefixes.append(common)
            } else {
                let object = objects[key]!
                contents.append("<Contents><Key>\(escape(key))</Key><LastModified>\(stamp)</LastModified><ETag>\(escape(object.etag))</ETag><Size>\(object.size)</Size><StorageClass>STANDARD</StorageClass></Contents>")
            }
            last = key
        }
        var head = "<Name>\(escape(bucket))</Name><Prefix>\(escape(prefix))</Prefix>"
        if v2 {
            head += "<KeyCount>\(contents.count + prefixes.count)</KeyCount>"
            if let token = value("continuation-token") { head += "<ContinuationToken>\(escape(token))</ContinuationToken>" }
            if truncated { head += "<NextContinuationToken>\(escape(last))</NextContinuationToken>" }
        } else {
            head += "<Marker>\(escape(value("marker") ?? ""))</Marker>"
            if truncated && delimiter != nil { head += "<NextMarker>\(escape(last))</NextMarker>" }
        }
        head += "<MaxKeys>\(maxKeys)</MaxKeys>"
        if let delimiter { head += "<Delimiter>\(escape(delimiter))</Delimiter>" }
        head += "<IsTruncated>\(truncated)</IsTruncated>"
        let common = prefixes.map { "<CommonPrefixes><Prefix>\(escape($0))</Prefix></CommonPrefixes>" }
        return .xml("<ListBucketResult\(xmlns)>\(head)\(contents.joined())\(common.joined())</ListBucketResult>")
    }

    static func objectCall(_ method: String, _ bucket: String, _ key: String, _ body: [UInt8], _ state: inout State) -> Answer {
        let resource = "/\(bucket)/\(key)"
        switch method {
        case "PUT":
            state.buckets[bucket]![key] = Object(body: body, contentType: "binary/octet-stream", etag: etag(body), size: Int64(body.count))
            return .empty(200, headers: [("ETag", etag(body))])
        case "DELETE":
            state.buckets[bucket]![key] = nil
            return .empty(204)
        case "GET", "HEAD":
            guard let object = state.buckets[bucket]![key] else {
                return method == "HEAD" ? .empty(404) : .error(404, "NoSuchKey", "The specified key does not exist.", resource: resource)
            }
            let headers = [
                ("Content-Type", object.contentType), ("Content-Length", String(object.size)), ("ETag", object.etag),
                ("Last-Modified", "Wed, 18 Nov 2026 11:06:40 GMT"), ("Accept-Ranges", "bytes"), ("x-amz-request-id", "fake-request"),
            ]
            return Answer(status: 200, headers: headers, body: method == "HEAD" ? [] : object.body)
        default:
            return .error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", resource: resource)
        }
    }

    static func multipart(_ method: String, _ bucket: String, _ key: String, _ query: [(String, String)], _ body: [UInt8], _ state: inout State) -> Answer {
        let resource = "/\(bucket)/\(key)"
        if method == "POST" && query.contains(where: { $0.0 == "uploads" }) {
            let id = "fake-upload-\(state.nextUpload)"
            state.nextUpload += 1
            state.uploads[id] = Upload(bucket: bucket, key: key)
            return .xml("<InitiateMultipartUploadResult\(xmlns)><Bucket>\(escape(bucket))</Bucket><Key>\(escape(key))</Key><UploadId>\(id)</UploadId></InitiateMultipartUploadResult>")
        }
        let id = query.first { $0.0 == "uploadId" }?.1 ?? ""
        guard let upload = state.uploads[id], upload.bucket == bucket, upload.key == key else {
            return .error(404, "NoSuchUpload", "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.", resource: resource)
        }
        switch method {
        case "GET":
            let parts = upload.parts.keys.sorted().map { number in
                "<Part><PartNumber>\(number)</PartNumber><LastModified>\(stamp)</LastModified><ETag>\(escape(upload.parts[number]!.etag))</ETag><Size>\(upload.parts[number]!.size)</Size></Part>"
            }
            return .xml("<ListPartsResult\(xmlns)><Bucket>\(escape(bucket))</Bucket><Key>\(escape(key))</Key><UploadId>\(id)</UploadId><PartNumberMarker>0</PartNumberMarker><NextPartNumberMarker>\(upload.parts.keys.max() ?? 0)</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated>\(parts.joined())</ListPartsResult>")
        case "DELETE":
            state.uploads[id] = nil
            return .empty(204)
        case "POST":
            // The parts named, in order: every one must be stored with the ETag given.
            let text = String(decoding: body, as: UTF8.self)
            var size: Int64 = 0
            for piece in text.components(separatedBy: "<Part>").dropFirst() {
                guard let number = Int(between(piece, "<PartNumber>", "</PartNumber>")),
                    let stored = upload.parts[number], stored.etag == between(piece, "<ETag>", "</ETag>").replacingOccurrences(of: "&quot;", with: "\"")
                else {
                    return .error(400, "InvalidPart", "One or more of the specified parts could not be found.", resource: resource)
                }
                size += stored.size
            }
            state.uploads[id] = nil
            let etag = "\"fake-multipart-\(size)\""
            state.buckets[bucket]![key] = Object(body: [], contentType: "binary/octet-stream", etag: etag, size: size)
            return .xml("<CompleteMultipartUploadResult\(xmlns)><Location>http://127.0.0.1:8333\(escape(resource))</Location><Bucket>\(escape(bucket))</Bucket><Key>\(escape(key))</Key><ETag>\(escape(etag))</ETag></CompleteMultipartUploadResult>")
        default:
            return .error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", resource: resource)
        }
    }

    static func between(_ text: String, _ open: String, _ close: String) -> String {
        guard let start = text.range(of: open), let end = text.range(of: close, range: start.upperBound..<text.endIndex) else { return "" }
        return String(text[start.upperBound..<end.lowerBound])
    }
}
