import S3Signing

/// A set of capabilities as one word, one bit per capability (`Capability.bit`): a rule's `operations` as the policy
/// engine asks about them on every request, a test of one bit instead of hashing into a `Set`.
public struct CapabilitySet: Equatable, Sendable {
    public private(set) var bits: UInt64

    public init<S: Sequence>(_ capabilities: S) where S.Element == Capability {
        bits = 0
        for capability in capabilities { bits |= 1 << UInt64(capability.bit) }
    }

    public func contains(_ capability: Capability) -> Bool { contains(capability.bit) }

    /// Whether the capability with this `Capability.bit` is in the set.
    public func contains(_ bit: Int) -> Bool { bits & (1 << UInt64(bit)) != 0 }
}

extension Capability {
    /// A small number unique to each capability, below 64: its place in `Capability.all`.
    public var bit: Int {
        switch self {
        case .sign(let operation): return operation.ordinal
        case .postForm: return S3Operation.allCases.count
        case .shareLink: return S3Operation.allCases.count + 1
        }
    }
}

extension S3Operation {
    /// The operation's place in `allCases`, without a search.
    var ordinal: Int {
        switch self {
        case .get: return 0
        case .head: return 1
        case .put: return 2
        case .delete: return 3
        case .getACL: return 4
        case .putACL: return 5
        case .createBucket: return 6
        case .createLocatedBucket: return 7
        case .listBucket: return 8
        case .deleteBucket: return 9
        case .getBucketACL: return 10
        case .putBucketACL: return 11
        case .getBucketLocation: return 12
        case .getBucketLogging: return 13
        case .putBucketLogging: return 14
        case .listAllMyBuckets: return 15
        }
    }
}
