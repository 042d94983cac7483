import ArgumentParser
import Foundation
import S3Signing

/// Flags shared by `sign` and `sign-post`: where the storage is and how to sign for it.
struct BackendOptions: ParsableArguments {
    @Option(parsing: .unconditional, help: "Storage endpoint, scheme://host[:port].")
    var endpoint: String

    @Option(parsing: .unconditional, help: "Region for SigV4 (ignored by v2/s3fm).")
    var region: String = "us-east-1"

    @Option(name: .customLong("access-key"), parsing: .unconditional, help: "Access key id (default: $S3_ACCESS_KEY).")
    var accessKey: String?

    @Option(name: .customLong("secret-key"), parsing: .unconditional, help: "Secret access key (default: $S3_SECRET_KEY).")
    var secretKey: String?

    @Option(name: .customLong("session-token"), parsing: .unconditional, help: "STS session token.")
    var sessionToken: String?

    @Option(parsing: .unconditional, help: "Signature: v4, v2 (AWSAccessKeyId) or s3fm (S3fmAccessKeyId).")
    var signature: SignatureVersion = .v4

    @Option(parsing: .unconditional, help: "Addressing: path, virtual or vanity.")
    var addressing: Addressing = .path

    @Option(parsing: .unconditional, help: "Signing time, RFC 3339 UTC (2026-11-26T08:00:00Z); default now.")
    var now: String?

    @Option(parsing: .unconditional, help: "Expiry in seconds from the signing time.")
    var expires: Int64

    func presigner() throws -> S3Presigner {
        let environment = ProcessInfo.processInfo.environment
        guard let access = accessKey ?? environment["S3_ACCESS_KEY"], !access.isEmpty else {
            throw ValidationError("--access-key or S3_ACCESS_KEY is required")
        }
        guard let secret = secretKey ?? environment["S3_SECRET_KEY"], !secret.isEmpty else {
            throw ValidationError("--secret-key or S3_SECRET_KEY is required")
        }
        guard S3Validation.isRegion(region) else {
            throw ValidationError("invalid --region '\(region)'")
        }
        let configuration = S3Presigner.Configuration(
            endpoint: try S3Endpoint(parsing: endpoint), region: region, addressing: addressing,
            signature: signature,
            credentials: Credentials(accessKeyId: access, secretAccessKey: secret, sessionToken: sessionToken))
        return S3Presigner(configuration)
    }

    func signingTime() throws -> SigningTime {
        guard let now else { return SigningTime(epochSeconds: Int64(Date().timeIntervalSince1970)) }
        guard let parsed = SigningTime(iso8601: now) else {
            throw ValidationError("invalid --now '\(now)': expected UTC like 2026-11-26T08:00:00Z")
        }
        return parsed
    }
}

extension SignatureVersion: ExpressibleByArgument {}
extension Addressing: ExpressibleByArgument {}
extension S3Operation: ExpressibleByArgument {}

extension SigningError: LocalizedError {
    public var errorDescription: String? { message }
}
