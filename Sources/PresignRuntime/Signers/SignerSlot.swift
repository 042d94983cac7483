import S3Signing

/// One kind of signer every backend has, named by what it signs: the key `BackendSigners.signer(_:for:worker:now:)`
/// looks a backend's signer up by (`.query`, `.form`, `.calls`). Each is made from the backend's current credential
/// set, so all of a backend's kinds rotate and clamp together (`CredentialWindow`). A new kind of a backend's is a
/// new signer type and a new static slot here; a signer that is not a backend's (a CDN's, under `cdns:`) has a
/// lookup of its own and shares only `WindowedSigner` with these.
public struct SignerSlot<Signer: Sendable>: Sendable {
    @usableFromInline let make: @Sendable (S3Presigner) -> Signer

    @usableFromInline init(make: @escaping @Sendable (S3Presigner) -> Signer) { self.make = make }
}

extension SignerSlot where Signer == QuerySigner {
    /// Presigned query URLs: `Capability.signatureKind == .query`.
    @inlinable
    public static var query: Self { Self(make: QuerySigner.init) }
}

extension SignerSlot where Signer == FormSigner {
    /// Browser POST forms: `Capability.signatureKind == .form`.
    @inlinable
    public static var form: Self { Self(make: FormSigner.init) }
}

extension SignerSlot where Signer == S3Presigner {
    /// presignd's own calls to S3 (the upload routes' multipart calls, the admin proxy): the whole presigner, which
    /// signs request headers for `S3fmAuthConnection`.
    @inlinable
    public static var calls: Self { Self(make: { $0 }) }
}
