import JSONKit
import Foundation
import S3Signing

/// One rule of a caller: the operations it allows and the conditions each request must meet.
public final class PolicyRule: Sendable {
    public let number: Int
    public let name: String?
    public let operations: Set<Capability>
    /// `operations` as bits (`Capability.bit`): what the policy engine tests on every request, without hashing.
    public let capabilities: CapabilitySet
    public let bucket: KeyPattern
    public let key: KeyPattern
    public let backend: String?
    public let maxExpiresIn: Int64
    public let contentTypes: [String]?
    public let maxContentLength: Int64?
    /// `min_expires_in`: when the credentials' expiry would clamp a URL below this, answer 503 instead.
    public let minExpiresIn: Int64?

    public init(
        number: Int, name: String?, operations: Set<Capability>, bucket: KeyPattern, key: KeyPattern, backend: String?,
        maxExpiresIn: Int64, contentTypes: [String]?, maxContentLength: Int64?, minExpiresIn: Int64? = nil
    ) {
        self.number = number
        self.name = name
        self.operations = operations
        capabilities = CapabilitySet(operations)
        self.bucket = bucket
        self.key = key
        self.backend = backend
        self.maxExpiresIn = maxExpiresIn
        self.contentTypes = contentTypes
        self.maxContentLength = maxContentLength
        self.minExpiresIn = minExpiresIn
    }

    public var label: String { name.map { "rule \(number) '\($0)'" } ?? "rule \(number)" }

    /// `type`, which must be exactly one media type (`MediaType`), against `type/subtype`, `type/*` or `*/*`;
    /// see `MediaType.isAdmitted(by:)` for why `type/*` leaves script-capable types out.
    public static func contentType(_ type: String, matches pattern: String) -> Bool {
        MediaType(type)?.isAdmitted(by: pattern) ?? false
    }

    /// Whether every type starting with `prefix` is allowed (for POST forms that pin only a prefix). S3's
    /// `starts-with` admits any text after the prefix: `image/` lets through `image/svg+xml` and
    /// `image/png, text/html`. Only `*/*` allows all of that; `type/*` and exact types never cover a prefix.
    public static func prefix(_ prefix: String, coveredBy pattern: String) -> Bool {
        pattern == "*/*"
    }

    /// The note added to a content-type denial when a `type/*` of the rule would have matched but for the
    /// script-capable rule, so the operator sees why and what to list.
    public func scriptNote(_ media: MediaType?) -> String {
        guard let media, media.isScriptCapable,
            contentTypes?.contains(where: { $0.lowercased() == media.type + "/*" }) == true
        else { return "" }
        return " (a type/* wildcard never admits a script-capable type; list it exactly)"
    }
}
