import HTTPServer
import JSONKit
import S3Client

/// The admin API's JSON bodies, written through the project's one `JSONWriter` in a fixed member order (clients
/// and tests compare exact bytes). Optional S3 fields are `null`, never left out.
enum AdminJSON {
    /// `{…}` with the members `members` writes.
    static func object(capacity: Int = 128, _ members: (inout JSONWriter) -> Void) -> [UInt8] {
        var writer = JSONWriter(capacity: capacity)
        writer.beginObject()
        members(&writer)
        writer.endObject()
        return writer.bytes
    }

    /// `{"bucket":…}`: a created bucket.
    static func created(bucket: String) -> [UInt8] { object { $0.string("bucket", bucket) } }

    /// `{"bucket":…,"key":…}`: a stored upload.
    static func stored(bucket: String, key: String) -> [UInt8] {
        object {
            $0.string("bucket", bucket)
            $0.string("key", key)
        }
    }

    /// `{"location":…}`.
    static func location(_ location: String) -> [UInt8] { object { $0.string("location", location) } }

    static func buckets(_ result: ListAllMyBucketsResult) -> [UInt8] {
        object(capacity: 64 + result.buckets.count * 64) { writer in
            writer.key("owner")
            if let owner = result.owner {
                writer.beginObject()
                writer.optionalString("id", owner.id)
                writer.optionalString("display_name", owner.displayName)
                writer.endObject()
            } else {
                writer.null()
            }
            writer.key("buckets")
            writer.beginArray()
            for bucket in result.buckets {
                writer.beginObject()
                writer.string("name", bucket.name)
                writer.optionalString("creation_date", bucket.creationDate)
                writer.endObject()
            }
            writer.endArray()
        }
    }

    static func list(_ result: ListBucketResult) -> [UInt8] {
        object(capacity: 256 + result.objects.count * 160) { writer in
            writer.string("name", result.name)
            writer.string("prefix", result.prefix)
            writer.optionalString("marker", result.marker)
            writer.optionalString("next_marker", result.nextMarker ?? result.nextContinuationToken)
            writer.key("max_keys")
            if let maxKeys = result.maxKeys { writer.integer(maxKeys) } else { writer.null() }
            writer.optionalString("delimiter", result.delimiter)
            writer.bool("is_truncated", result.isTruncated)
            writer.key("objects")
            writer.beginArray()
            for item in result.objects {
                writer.beginObject()
                writer.string("key", item.key)
                writer.optionalString("last_modified", item.lastModified)
                writer.optionalString("etag", item.etag)
                writer.integer("size", item.size)
                writer.optionalString("storage_class", item.storageClass)
                writer.endObject()
            }
            writer.endArray()
            writer.key("common_prefixes")
            writer.beginArray()
            for prefix in result.commonPrefixes { writer.string(prefix) }
            writer.endArray()
        }
    }
}
