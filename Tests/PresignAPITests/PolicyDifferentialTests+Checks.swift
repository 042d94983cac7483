import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore
import TestSupport

/// What S3 would accept of a signed URL or a POST form, checked against the rules.
extension Oracle {
    func checkURL(_ url: String, method: String, headers: [String: String], request: RandomRequest, stats: inout Stats) -> [String] {
        guard let components = URLComponents(string: url), let host = components.host else { return ["unparsable URL \(url)"] }
        let path = components.percentEncodedPath
        var query: [String: String?] = [:]
        for item in components.percentEncodedQueryItems ?? [] {
            // updateValue, not subscript assignment: a value-less `?acl` must stay in the map as .some(nil).
            query.updateValue(item.value.map { $0.removingPercentEncoding ?? $0 }, forKey: item.name.removingPercentEncoding ?? item.name)
        }
        // Bucket and key as the storage reads them from this backend's addressing.
        var bucket: String?
        var key: String
        if request.backend == "virtual" && host != "s3.example.test" {
            guard host.hasSuffix(".s3.example.test") else { return ["unexpected host \(host)"] }
            bucket = String(host.dropLast(".s3.example.test".count))
            key = String(path.dropFirst())
        } else {
            let rest = path.dropFirst()
            if rest.isEmpty {
                key = ""
            } else {
                let slash = rest.firstIndex(of: "/") ?? rest.endIndex
                bucket = String(rest[..<slash])
                key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
            }
        }
        guard let decodedKey = key.removingPercentEncoding else { return ["key is not percent-encoding: \(key)"] }
        key = decodedKey
        let subresource = ["acl", "location", "logging"].first { query[$0] != nil }
        let operations: Set<String>
        switch (method, bucket == nil, key.isEmpty, subresource) {
        case ("GET", true, _, nil): operations = ["list_all_my_buckets"]
        case ("GET", false, true, nil): operations = ["list_bucket"]
        case ("GET", false, true, "acl"): operations = ["get_bucket_acl"]
        case ("GET", false, true, "location"): operations = ["get_bucket_location"]
        case ("GET", false, true, "logging"): operations = ["get_bucket_logging"]
        case ("PUT", false, true, nil): operations = ["create_bucket", "create_located_bucket"]
        case ("PUT", false, true, "acl"): operations = ["put_bucket_acl"]
        case ("PUT", false, true, "logging"): operations = ["put_bucket_logging"]
        case ("DELETE", false, true, nil): operations = ["delete_bucket"]
        case ("GET", false, false, nil): operations = ["get"]
        case ("GET", false, false, "acl"): operations = ["get_acl"]
        case ("HEAD", false, false, nil): operations = ["head"]
        case ("PUT", false, false, nil): operations = ["put"]
        case ("PUT", false, false, "acl"): operations = ["put_acl"]
        case ("DELETE", false, false, nil): operations = ["delete"]
        default: return ["no operation is \(method) \(url)"]
        }
        let lifetime: Int64
        var contentType: String? = headers["Content-Type"]
        var size = Int64.max
        if let expires = query["X-Amz-Expires"], let seconds = Int64(expires ?? "") {
            lifetime = seconds
            let signedText = (query["X-Amz-SignedHeaders"] ?? nil) ?? ""
            let signed = Set(signedText.split(separator: ";").map(String.init))
            if !signed.contains("content-type") { contentType = "*" }
            if signed.contains("content-length"), let length = headers["Content-Length"].flatMap({ Int64($0) }) { size = length }
        } else if let expires = query["Expires"], let at = Int64(expires ?? "") {
            lifetime = at - now
            // SigV2 always signs Content-Type (empty when the client must send none) and never Content-Length.
        } else {
            return ["no expiry in \(url)"]
        }
        var responseValues: [String] = []
        for (name, value) in query where name.hasPrefix("response-") { responseValues.append(value ?? "") }
        let known: Set<String> = [
            "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
            "AWSAccessKeyId", "Signature", "Expires", "content-type", "acl", "location", "logging",
        ]
        if let unknown = query.keys.first(where: { !known.contains($0) && !$0.hasPrefix("response-") }) {
            return ["unmodelled query parameter \(unknown) in \(url)"]
        }
        let wide = bucket == nil ? Grant.Buckets.everyBucket : .one(bucket!)
        if operations.isDisjoint(with: ["get", "head", "put", "delete", "get_acl", "put_acl"]) { stats.listings += 1 }
        let grant = Grant(
            operations: operations, bucket: wide, keys: key.isEmpty ? .everyKey : .one(key), lifetime: lifetime,
            contentType: contentType, size: size, responseContentType: query["response-content-type"] ?? nil,
            responseValues: responseValues)
        if let why = allowed(grant, backend: request.backend, exactKey: true) {
            return ["\(method) \(url) headers \(headers) is outside every rule: \(why)"]
        }
        return []
    }

    func checkForm(_ fields: [String: String], request: RandomRequest, stats: inout Stats) -> [String] {
        guard let encoded = fields["policy"], let data = Data(base64Encoded: encoded),
            let policy = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let expiration = policy["expiration"] as? String, let conditions = policy["conditions"] as? [Any]
        else { return ["unreadable policy"] }
        let formatter = ISO8601DateFormatter()
        guard let expires = formatter.date(from: expiration) else { return ["bad expiration \(expiration)"] }
        var buckets: [String]?
        var keys: [String]?
        var exactKey = true
        var types: [String?] = [nil]
        var sizes: [Int64] = [Int64.max]
        let typeCandidates = [
            "image/png", "image/svg+xml", "text/html", "image/png, text/html", "application/json", "text/plain",
            "image/png; a=b, text/html",
        ]
        for condition in conditions {
            if let pair = condition as? [String: String], pair.count == 1, let name = pair.keys.first, let value = pair[name] {
                switch name.lowercased() {
                case "bucket": buckets = [value]
                case "key": keys = [value]
                case "content-type": types = [value]
                case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token": break
                default: return ["unmodelled condition \(pair)"]
                }
            } else if let list = condition as? [Any], list.count == 3, let verb = list[0] as? String {
                if verb == "content-length-range", let low = list[1] as? Int64, let high = list[2] as? Int64 {
                    sizes = [low, high]
                } else if let field = list[1] as? String, let value = list[2] as? String {
                    switch (verb, field.lowercased()) {
                    case ("eq", "$key"): keys = [value]
                    case ("starts-with", "$key"):
                        stats.filenameForms += 1
                        exactKey = false
                        keys = [value, value + "evil.html", value + "a.png", value + "x/../../evil.png"]
                    case ("eq", "$content-type"): types = [value]
                    case ("starts-with", "$content-type"):
                        let matching = (typeCandidates + [value, value + "svg+xml", value + "png, text/html"])
                            .filter { $0.lowercased().hasPrefix(value.lowercased()) }
                        types = matching.isEmpty ? [value] : matching
                    case ("eq", "$bucket"): buckets = [value]
                    default: return ["unmodelled condition \(list)"]
                    }
                } else {
                    return ["unmodelled condition \(list)"]
                }
            } else {
                return ["unmodelled condition \(condition)"]
            }
        }
        guard let keys else { return ["policy leaves the key free"] }
        let lifetime = Int64(expires.timeIntervalSince1970) - now
        var problems: [String] = []
        for key in keys {
            for type in types {
                for size in sizes {
                    let grant = Grant(
                        operations: ["post_object"], bucket: buckets.map { .one($0[0]) } ?? .everyBucket, keys: .one(key),
                        lifetime: lifetime, contentType: type, size: size, responseContentType: nil, responseValues: [])
                    if let why = allowed(grant, backend: request.backend, exactKey: exactKey), problems.count < 3 {
                        problems.append("POST form lets S3 accept key '\(key)', Content-Type \(type.map { "'\($0)'" } ?? "none"), \(size == .max ? "any size" : "\(size) bytes"): \(why); policy \(String(decoding: data, as: UTF8.self))")
                    }
                }
            }
        }
        return problems
    }
}
