import S3Signing

/// A backend's signer of browser POST forms (a signed policy document: `post_object`). One credential set's, from
/// `BackendSigners.signer(.form, for:worker:now:)`.
public struct FormSigner: Sendable {
    private let presigner: S3Presigner

    public init(_ presigner: S3Presigner) { self.presigner = presigner }

    public func sign(_ policy: PostPolicy, now: SigningTime) throws(SigningError) -> PostPolicy.Form {
        try presigner.presignPost(policy, now: now)
    }
}
