import S3Signing

/// What a caller may ask presignd to sign: one of the seed's S3 operations, or a browser POST form. Rules list
/// these, requests name one, and the policy engine compares them as values, never as strings.
public enum PresignOperation: Hashable, Sendable, CustomStringConvertible {
    case s3(S3Operation)
    /// A browser form upload (`POST` with a signed policy document).
    case postObject

    /// The name used in configs, requests, metrics and audit lines (`get`, `put_acl`, `post_object`).
    public init?(name: String) {
        if name == "post_object" {
            self = .postObject
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
        }
    }

    public var description: String { name }

    /// Every operation, in the order configs list them.
    public static let all: [PresignOperation] = S3Operation.allCases.map { .s3($0) } + [.postObject]

    /// Whether it is about one object (a key), a bucket, or the whole service.
    public var scope: S3Operation.Scope {
        switch self {
        case .s3(let operation): return operation.scope
        case .postObject: return .object
        }
    }

    /// `put` and `post_object`: the operations that store a body, so content types and sizes apply.
    public var storesBody: Bool { self == .s3(.put) || self == .postObject }
}
