import Foundation
import JSONKit
import S3Signing

/// `backends.NAME.credentials`: one rotating source, checked here; a file source is read now, so a missing or
/// malformed file fails the load (check-config, start, SIGHUP) with its path.
extension ConfigLoader {
    static func rotatingCredentials(
        _ raw: RawConfig.RawCredentials, backend name: String, secrets: SecretSource
    ) throws(ConfigError) -> RotatingCredentials {
        let path = "backends.\(name).credentials"
        let given = [raw.file != nil, raw.containerEndpoint != nil, raw.webIdentity != nil].filter { $0 }.count
        guard given == 1 else { throw ConfigError(path, "give exactly one of file, container_endpoint or web_identity") }
        if raw.authorizationTokenFile != nil && raw.containerEndpoint == nil {
            throw ConfigError("\(path).authorization_token_file", "only goes with container_endpoint")
        }
        let margin = try ConfigBounds.check(raw.refreshMarginSeconds ?? 300, ConfigBounds.credentialMargin, path: "\(path).refresh_margin_seconds")
        if let file = raw.file {
            guard Self.isPath(file) else { throw ConfigError("\(path).file", "must be a file path (at most 4096 bytes)") }
            guard let text = secrets.readFile(file) else { throw ConfigError("\(path).file", "cannot read credentials file \(file)") }
            let set: CredentialSet
            do { set = try CredentialDocument.parseFile(Array(text.utf8)) } catch {
                throw ConfigError("\(path).file", "\(file): \(error.message)")
            }
            return RotatingCredentials(source: .file(path: file), margin: margin, initial: set)
        }
        if let url = raw.containerEndpoint {
            if let problem = Self.containerEndpointProblem(url) { throw ConfigError("\(path).container_endpoint", problem) }
            if let token = raw.authorizationTokenFile, !Self.isPath(token) {
                throw ConfigError("\(path).authorization_token_file", "must be a file path (at most 4096 bytes)")
            }
            return RotatingCredentials(source: .container(url: url, authorizationTokenFile: raw.authorizationTokenFile), margin: margin)
        }
        let web = raw.webIdentity!
        let wpath = "\(path).web_identity"
        guard web.roleArn.hasPrefix("arn:"), web.roleArn.utf8.count <= 2048, web.roleArn.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw ConfigError("\(wpath).role_arn", "must be a role ARN (arn:aws:iam::ACCOUNT:role/NAME)")
        }
        guard Self.isPath(web.tokenFile) else { throw ConfigError("\(wpath).token_file", "must be a file path (at most 4096 bytes)") }
        let sts = web.stsEndpoint ?? "https://sts.amazonaws.com"
        if let problem = Self.stsEndpointProblem(sts) { throw ConfigError("\(wpath).sts_endpoint", problem) }
        let session = web.sessionName ?? "presignd-\(name)"
        guard (2...64).contains(session.utf8.count),
            session.utf8.allSatisfy({ ASCIIName.isSessionNameByte($0) })
        else { throw ConfigError("\(wpath).session_name", "must be 2 to 64 of A-Z a-z 0-9 and +=,.@_-") }
        let duration = try ConfigBounds.check(web.durationSeconds ?? 3600, ConfigBounds.webIdentityDuration, path: "\(wpath).duration_seconds")
        guard Int64(duration) > margin else {
            throw ConfigError("\(path).refresh_margin_seconds", "must be under web_identity.duration_seconds (\(duration))")
        }
        return RotatingCredentials(
            source: .webIdentity(.init(roleArn: web.roleArn, tokenFile: web.tokenFile, stsEndpoint: sts, sessionName: session, durationSeconds: duration)),
            margin: margin)
    }

    static func isPath(_ text: String) -> Bool { !text.isEmpty && text.utf8.count <= 4096 && !text.utf8.contains(0) }

    /// The SDKs' rule for the container credentials endpoint: http(s) to a loopback or link-local host (the ECS
    /// and EKS agents live at 169.254.170.2, 169.254.170.23 and fd00:ec2::23), so a config cannot send the
    /// authorization token to an arbitrary host.
    static func containerEndpointProblem(_ url: String) -> String? {
        guard let parts = URLParts(url), parts.scheme == "http" || parts.scheme == "https" else {
            return "must be an http:// or https:// URL with no user part, of visible ASCII (at most 2048 bytes)"
        }
        guard parts.isLoopbackOrLinkLocal else {
            return "host '\(parts.host)' is not loopback or link-local (127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)"
        }
        return nil
    }

    /// STS over https; http only to a loopback host (a local fake in tests).
    static func stsEndpointProblem(_ url: String) -> String? {
        guard let parts = URLParts(url), parts.scheme == "http" || parts.scheme == "https" else {
            return "must be an http:// or https:// URL with no user part, of visible ASCII (at most 2048 bytes)"
        }
        if parts.scheme == "http" && !parts.authority.isLoopback { return "must be https (http only to a loopback host)" }
        return nil
    }
}

enum ASCIIName {
    static func isSessionNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || Array("+=,.@_-".utf8).contains(b)
    }
}

/// The scheme and authority of an absolute URL, read strictly (no user part, visible ASCII, at most 2048 bytes; the
/// authority by the shared `Authority` rules).
struct URLParts {
    let scheme: String
    let authority: Authority
    /// The host, lowercased, without brackets.
    var host: String { authority.hostText }

    init?(_ url: String) {
        guard url.utf8.count <= 2048, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), let sep = url.range(of: "://") else { return nil }
        scheme = url[..<sep.lowerBound].lowercased()
        let text = url[sep.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !text.contains("@"), let authority = try? Authority(parsing: text) else { return nil }
        self.authority = authority
    }

    /// Loopback by `Authority.isLoopback`, or link-local: 169.254.0.0/16, fe80::/10, and the EKS agent's fd00:ec2::23.
    var isLoopbackOrLinkLocal: Bool {
        if authority.isLoopback { return true }
        switch authority.host {
        case .name: return false
        case .ipv4(let bytes): return bytes[0] == 169 && bytes[1] == 254
        case .ipv6(let bytes):
            if bytes == Self.eksAgent { return true }
            return bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80
        }
    }

    static let eksAgent: [UInt8] = [0xFD, 0x00, 0x0E, 0xC2] + Array(repeating: 0, count: 11) + [0x23]
}
