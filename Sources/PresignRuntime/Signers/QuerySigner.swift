import S3Signing

/// A backend's signer of presigned query URLs (SigV4, SigV2 or S3fm, as the backend signs): the URLs of
/// `POST /v1/presign`'s operations, of upload parts, and of a share link's redirect. One credential set's, from
/// `BackendSigners.signer(.query, for:worker:now:)`.
public struct QuerySigner: Sendable {
    private let presigner: S3Presigner

    public init(_ presigner: S3Presigner) { self.presigner = presigner }

    public func sign(_ request: S3Presigner.Request, now: SigningTime) throws(SigningError) -> S3Presigner.PresignedURL {
        try presigner.presign(request, now: now)
    }
}
