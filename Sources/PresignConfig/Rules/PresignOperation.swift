import S3Signing

/// What a caller may ask presignd to sign: one of the seed's S3 operations, or a browser POST form. Rules list
/// these, requests name one, and the policy engine compares them as values, never as strings.
public enum PresignOperation: Hashable, Sendable, CustomStringConvertible {
    case s3(S3Operation)
    /// A browser form upload (`POST` with a signed policy document).
    case postObject
    /// A share link (`POST /v1/links`): a stable URL that redirects to a fresh presigned GET at every use. Its
    /// lifetime is capped by the rule's `max_expires_in`, which may exceed SigV4's 7 days (up to a year).
    case shareLink

    /// The name used in configs, requests, metrics and audit lines (`get`, `put_acl`, `post_object`).
    public init?(name: String) {
        if name == "post_object" {
            self = .postObject
        } else if name == "share_link" {
            self = .shareLink
        } else if let operation = S3Operation(rawValue: name) {
            self = .s3(operation)
        } else {
            return nil
        }
    }

    public var name: String {
        switch self {
        case .s3(let operation): return operation.rawValue
        case .postObject: return "post_object"
        case .shareLink: return "share_link"
        }
    }

    public var description: String { name }

    /// Every operation, in the order configs list them.
    public static let all: [PresignOperation] = S3Operation.allCases.map { .s3($0) } + [.postObject, .shareLink]

    /// Whether it is about one object (a key), a bucket, or the whole service.
    public var scope: S3Operation.Scope {
        switch self {
        case .s3(let operation): return operation.scope
        case .postObject, .shareLink: return .object
        }
    }

    /// `put` and `post_object`: the operations that store a body, so content types and sizes apply.
    public var storesBody: Bool { self == .s3(.put) || self == .postObject }
}
