import S3Signing

/// What a capability is handed out as, and so which of a backend's signers makes it: a presigned query URL for one
/// S3 operation, or a browser POST form. `Capability.signatureKind` maps each capability to one; a handler switches
/// over this, never over capabilities, so it has no case for a capability its endpoint does not sign.
public enum SignatureKind: Hashable, Sendable {
    case query(S3Operation)
    case form
}
