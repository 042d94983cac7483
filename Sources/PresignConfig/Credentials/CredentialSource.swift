import S3Signing

/// Where a backend's rotating credentials come from (`backends.NAME.credentials`).
public enum CredentialSource: Sendable, Equatable {
    /// A JSON or INI file (a mounted secret, a sidecar's output), re-read when it changes and on SIGHUP.
    case file(path: String)
    /// The container credentials protocol (ECS, EKS Pod Identity): GET `url`, with `Authorization` read from
    /// `authorizationTokenFile` when given.
    case container(url: String, authorizationTokenFile: String?)
    /// STS AssumeRoleWithWebIdentity with the token in `tokenFile` (IRSA, workload identity).
    case webIdentity(WebIdentity)

    public struct WebIdentity: Sendable, Equatable {
        public var roleArn: String
        public var tokenFile: String
        public var stsEndpoint: String
        public var sessionName: String
        public var durationSeconds: Int

        public init(roleArn: String, tokenFile: String, stsEndpoint: String, sessionName: String, durationSeconds: Int) {
            self.roleArn = roleArn
            self.tokenFile = tokenFile
            self.stsEndpoint = stsEndpoint
            self.sessionName = sessionName
            self.durationSeconds = durationSeconds
        }
    }

    /// For logs: the kind and where, never a secret.
    public var label: String {
        switch self {
        case .file(let path): return "file \(path)"
        case .container(let url, _): return "container endpoint \(url)"
        case .webIdentity(let w): return "web identity \(w.roleArn) via \(w.stsEndpoint)"
        }
    }
}

/// One set of credentials as a source handed it out: key, secret, optional token, optional expiry (epoch seconds).
/// A URL is always signed with one whole set.
public struct CredentialSet: Sendable, Equatable {
    public let credentials: Credentials
    public let expiration: Int64?

    public init(credentials: Credentials, expiration: Int64?) {
        self.credentials = credentials
        self.expiration = expiration
    }
}
