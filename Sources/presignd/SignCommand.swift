import ArgumentParser
import S3Signing
import JSONKit

/// `presignd sign`: prints one presigned URL on stdout.
struct SignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign", abstract: "Print a presigned URL for one operation.")

    @OptionGroup var backend: BackendOptions

    @Option(parsing: .unconditional, help: "HTTP method for object operations: GET, PUT, DELETE or HEAD.")
    var method: String?

    @Option(parsing: .unconditional, help: "Bucket name.")
    var bucket: String?

    @Option(parsing: .unconditional, help: "Object key (raw, not encoded).")
    var key: String?

    @Option(parsing: .unconditional, help: "A seed operation (get_acl, list_bucket, ...) instead of a plain object method.")
    var operation: S3Operation?

    @Option(name: .customLong("header"), parsing: .unconditionalSingleValue, help: "A header to sign, 'Name: value'. Repeatable.")
    var headers: [String] = []

    @Option(name: .customLong("query"), parsing: .unconditionalSingleValue, help: "A query parameter to sign, name=value (response-* overrides). Repeatable.")
    var queries: [String] = []

    func run() throws {
        let operation = try resolveOperation()
        let request = S3Presigner.Request(
            operation: operation, bucket: bucket ?? "", key: key ?? "", expiry: .after(seconds: backend.expires),
            headers: try headers.map(Self.parseHeader), query: try queries.map(Self.parseQuery))
        if operation.scope != .object, key != nil {
            throw ValidationError("--key is not used by \(operation.rawValue)")
        }
        let url = try backend.presigner().presign(request, now: backend.signingTime()).url
        print(url)
    }

    func resolveOperation() throws -> S3Operation {
        let fromMethod = try method.map { text -> S3Operation in
            guard let op = S3Operation.object(method: text) else {
                throw ValidationError("invalid --method '\(text)': use GET, PUT, DELETE or HEAD")
            }
            return op
        }
        switch (operation, fromMethod) {
        case (nil, nil): throw ValidationError("--method or --operation is required")
        case (nil, let op?): return op
        case (let op?, nil): return op
        case (let op?, let byMethod?):
            guard op.method == byMethod.method else {
                throw ValidationError("--operation \(op.rawValue) uses \(op.method), not \(byMethod.method)")
            }
            return op
        }
    }

    static func parseHeader(_ text: String) throws -> (name: String, value: String) {
        guard let colon = text.firstIndex(of: ":"), colon != text.startIndex else {
            throw ValidationError("invalid --header '\(text)': expected 'Name: value'")
        }
        let name = String(text[..<colon])
        let value = String(ASCII.trimmed(text[text.index(after: colon)...]))
        guard !name.contains(" ") else { throw ValidationError("invalid --header '\(text)': space in name") }
        return (name, value)
    }

    static func parseQuery(_ text: String) throws -> (name: String, value: String) {
        guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
            throw ValidationError("invalid --query '\(text)': expected name=value")
        }
        return (String(text[..<equals]), String(text[text.index(after: equals)...]))
    }
}
