/// `backends.NAME.credentials` as checked by the loader: where the sets come from, the margin, and for a file
/// source the set read at load. Plain values: the service builds the cell that holds the current set from this,
/// with its own worker count (`BackendSigners` in PresignRuntime).
public struct RotatingCredentials: Sendable, Equatable {
    public let source: CredentialSource
    /// Seconds before the expiry at which a set stops signing (and URLs are clamped to).
    public let margin: Int64
    /// The set read when the configuration loaded (a file source); nil until a remote source's first fetch.
    public let initial: CredentialSet?

    public init(source: CredentialSource, margin: Int64, initial: CredentialSet? = nil) {
        self.source = source
        self.margin = margin
        self.initial = initial
    }
}
