import ArgumentParser
import JSONKit
import Foundation
import S3Signing

/// `presignd sign-post`: prints a browser POST form (URL and fields) as JSON.
struct SignPostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-post", abstract: "Print a presigned POST form (url and fields) as JSON.")

    @OptionGroup var backend: BackendOptions

    @Option(parsing: .unconditional, help: "Bucket name.")
    var bucket: String

    @Option(parsing: .unconditional, help: "Object key; may contain ${filename}.")
    var key: String

    @Option(name: .customLong("content-type"), parsing: .unconditional, help: "Exact Content-Type the upload must have.")
    var contentType: String?

    @Option(name: .customLong("content-type-prefix"), parsing: .unconditional, help: "Prefix the upload's Content-Type must start with.")
    var contentTypePrefix: String?

    @Option(name: .customLong("content-length-range"), parsing: .unconditional, help: "MIN,MAX bytes allowed for the file.")
    var contentLengthRange: String?

    @Option(name: .customLong("field"), parsing: .unconditionalSingleValue, help: "Extra form field name=value, pinned by the policy. Repeatable.")
    var extraFields: [String] = []

    func run() throws {
        var fields: [(name: String, value: String)] = try extraFields.map(SignCommand.parseQuery)
        var conditions: [PostPolicy.Condition] = []
        if let contentType { fields.append(("Content-Type", contentType)) }
        if let contentTypePrefix {
            guard contentType == nil else {
                throw ValidationError("--content-type and --content-type-prefix are exclusive")
            }
            conditions.append(.startsWith(field: "Content-Type", prefix: contentTypePrefix))
        }
        if let contentLengthRange {
            let parts = contentLengthRange.split(separator: ",", omittingEmptySubsequences: false)
            guard parts.count == 2, let min = Int64(parts[0]), let max = Int64(parts[1]) else {
                throw ValidationError("invalid --content-length-range '\(contentLengthRange)': expected MIN,MAX")
            }
            conditions.append(.contentLengthRange(min: min, max: max))
        }
        let policy = PostPolicy(
            bucket: bucket, key: key, expiry: .after(seconds: backend.expires), fields: fields, conditions: conditions)
        let form = try backend.presigner().presignPost(policy, now: backend.signingTime())
        // Keys in sorted order at every level, as before.
        var out = JSONWriter()
        out.beginObject()
        out.string("expires_at", form.expires.iso8601)
        out.key("fields")
        out.beginObject()
        for (name, value) in form.fields.sorted(by: { $0.name < $1.name }) { out.string(name, value) }
        out.endObject()
        out.string("url", form.url)
        out.endObject()
        print(out.text)
    }
}
