import S3Signing

/// What a caller may ask presignd for: one of the seed's S3 operations signed as a URL, a browser POST form, or a
/// share link. Rules hold a set of these, requests name one, and the policy engine compares them as values. What
/// differs between capabilities (where they are asked, how long they may live, what they are about) is said here,
/// once, and nowhere else.
public enum Capability: Hashable, Sendable, CustomStringConvertible {
    case sign(S3Operation)
    /// A browser form upload (`POST` with a signed policy document).
    case postForm
    /// A share link (`POST /v1/links`): a stable URL that redirects to a fresh presigned GET at every use.
    case shareLink

    /// The name used in configs, requests, metrics and audit lines (`get`, `put_acl`, `post_object`, `share_link`).
    public init?(name: String) {
        switch name {
        case "post_object": self = .postForm
        case "share_link": self = .shareLink
        default:
            guard let operation = S3Operation(rawValue: name) else { return nil }
            self = .sign(operation)
        }
    }

    public var name: String {
        switch self {
        case .sign(let operation): return operation.rawValue
        case .postForm: return "post_object"
        case .shareLink: return "share_link"
        }
    }

    public var description: String { name }

    /// Every capability, in the order configs list them.
    public static let all: [Capability] = S3Operation.allCases.map { .sign($0) } + [.postForm, .shareLink]

    /// Where a caller asks for it.
    public enum Endpoint: Sendable {
        /// `POST /v1/presign` and its batch, by `operation` name.
        case presign
        /// `POST /v1/links`.
        case links
    }

    public var endpoint: Endpoint {
        switch self {
        case .sign, .postForm: return .presign
        case .shareLink: return .links
        }
    }

    /// Whether it is about one object (a key), a bucket, or the whole service.
    public var scope: S3Operation.Scope {
        switch self {
        case .sign(let operation): return operation.scope
        case .postForm, .shareLink: return .object
        }
    }

    /// What it is signed as, and so the signer that signs it: an operation's query URL, or a POST form. A share
    /// link is signed at each use as a GET (or HEAD) URL.
    public var signatureKind: SignatureKind {
        switch self {
        case .sign(let operation): return .query(operation)
        case .postForm: return .form
        case .shareLink: return .query(.get)
        }
    }

    /// `put` and `post_object`: the capabilities that store a body, so content types and sizes apply.
    public var storesBody: Bool { self == .sign(.put) || self == .postForm }

    /// The longest a grant of it may live on a backend that signs with `signature`, before the rule's own
    /// `max_expires_in`: a SigV4 URL or form at most 7 days; SigV2 and S3fm URLs have no cap of their own; a
    /// share link is not a URL (it redirects to a fresh one at each use), so only the rule caps it.
    public func maxLifetime(for signature: SignatureVersion) -> Int64 {
        switch self {
        case .shareLink: return .max
        case .sign, .postForm: return signature == .v4 ? SigV4.maxExpires : .max
        }
    }

    /// The lifetime given when a request names none (before the cap): 15 minutes for a URL or form, a day for a
    /// link or a multipart upload's handle.
    public func defaultLifetime(multipart: Bool) -> Int64 {
        switch self {
        case .shareLink: return 86_400
        case .sign, .postForm: return multipart ? 86_400 : 900
        }
    }
}
