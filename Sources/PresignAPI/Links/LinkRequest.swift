import JSONKit
import PresignConfig

/// The body of `POST /v1/links`: a presign GET request's bucket, key, backend and response overrides, checked by
/// the same code, plus the link's own `expires_in` (up to a year) and `max_uses`.
struct LinkRequest {
    var bucket: String
    var key: String
    var backend: String?
    var expiresIn: Int64?
    var maxUses: Int64?
    /// Response overrides by API name, already checked as header values.
    var response: [String: String]

    static let fieldNames: Set<String> = ["bucket", "key", "backend", "expires_in", "max_uses", "response"]
    static let maxUses: ClosedRange<Int64> = 1...1_000_000

    static func parse(_ value: JSONValue) throws(APIError) -> LinkRequest {
        guard case .object(let members) = value else { throw .invalid("body", "must be a JSON object") }
        var rest: [(String, JSONValue)] = [("operation", .string("get"))]
        var maxUses: Int64?
        for (name, field) in members {
            guard fieldNames.contains(name) else { throw .invalid(name, "unknown field") }
            if name == "max_uses" {
                guard case .integer(let number) = field, Self.maxUses.contains(number) else {
                    throw .invalid("max_uses", "must be an integer from 1 to \(Self.maxUses.upperBound)")
                }
                maxUses = number
            } else {
                rest.append((name, field))
            }
        }
        let parsed = try PresignRequest.parse(.object(rest))
        let checked = try CheckedRequest.check(parsed, path: "")
        return LinkRequest(
            bucket: checked.bucket!, key: checked.key!, backend: parsed.backend, expiresIn: parsed.expiresIn,
            maxUses: maxUses, response: parsed.response ?? [:])
    }
}
