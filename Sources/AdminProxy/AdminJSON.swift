import HTTPServer
import S3Client

/// The admin API's JSON bodies, written in a fixed member order (clients and tests compare exact bytes).
enum AdminJSON {
    enum Value {
        case string(String)
        case number(Int64)
        case bool(Bool)
        case null
        /// Bytes that are already one JSON value (an array or object built here).
        case raw([UInt8])
    }

    static func quoted(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        JSONText.appendString(text, to: &out)
        return out
    }

    static func object(_ members: [(String, Value)]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (index, (name, value)) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            JSONText.appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch value {
            case .string(let text): JSONText.appendString(text, to: &out)
            case .number(let n): out += String(n).utf8
            case .bool(let b): out += (b ? "true" : "false").utf8
            case .null: out += "null".utf8
            case .raw(let bytes): out += bytes
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    static func optional(_ text: String?) -> Value { text.map { .string($0) } ?? .null }

    /// `{"bucket":…,"key":…}`: what a finished upload answers.
    static func stored(bucket: String, key: String) -> [UInt8] {
        object([("bucket", .string(bucket)), ("key", .string(key))])
    }

    static func buckets(_ result: ListAllMyBucketsResult) -> [UInt8] {
        var buckets: [UInt8] = [UInt8(ascii: "[")]
        for (index, bucket) in result.buckets.enumerated() {
            if index > 0 { buckets.append(UInt8(ascii: ",")) }
            buckets += object([("name", .string(bucket.name)), ("creation_date", optional(bucket.creationDate))])
        }
        buckets.append(UInt8(ascii: "]"))
        let owner: Value = result.owner.map { .raw(object([("id", optional($0.id)), ("display_name", optional($0.displayName))])) } ?? .null
        return object([("owner", owner), ("buckets", .raw(buckets))])
    }

    static func list(_ result: ListBucketResult) -> [UInt8] {
        var objects: [UInt8] = [UInt8(ascii: "[")]
        for (index, item) in result.objects.enumerated() {
            if index > 0 { objects.append(UInt8(ascii: ",")) }
            objects += object([
                ("key", .string(item.key)), ("last_modified", optional(item.lastModified)), ("etag", optional(item.etag)),
                ("size", .number(item.size)), ("storage_class", optional(item.storageClass)),
            ])
        }
        objects.append(UInt8(ascii: "]"))
        var prefixes: [UInt8] = [UInt8(ascii: "[")]
        for (index, prefix) in result.commonPrefixes.enumerated() {
            if index > 0 { prefixes.append(UInt8(ascii: ",")) }
            JSONText.appendString(prefix, to: &prefixes)
        }
        prefixes.append(UInt8(ascii: "]"))
        return object([
            ("name", .string(result.name)), ("prefix", .string(result.prefix)), ("marker", optional(result.marker)),
            ("next_marker", optional(result.nextMarker ?? result.nextContinuationToken)),
            ("max_keys", result.maxKeys.map { .number(Int64($0)) } ?? .null), ("delimiter", optional(result.delimiter)),
            ("is_truncated", .bool(result.isTruncated)), ("objects", .raw(objects)), ("common_prefixes", .raw(prefixes)),
        ])
    }
}
