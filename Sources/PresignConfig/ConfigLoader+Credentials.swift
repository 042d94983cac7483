import Foundation
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
        guard URLParts.isLoopbackOrLinkLocal(parts.host) else {
            return "host '\(parts.host)' is not loopback or link-local (127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)"
        }
        return nil
    }

    /// STS over https; http only to a loopback host (a local fake in tests).
    static func stsEndpointProblem(_ url: String) -> String? {
        guard let parts = URLParts(url), parts.scheme == "http" || parts.scheme == "https" else {
            return "must be an http:// or https:// URL with no user part, of visible ASCII (at most 2048 bytes)"
        }
        if parts.scheme == "http" && !URLParts.isLoopback(parts.host) { return "must be https (http only to a loopback host)" }
        return nil
    }
}

enum ASCIIName {
    static func isSessionNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || Array("+=,.@_-".utf8).contains(b)
    }
}

/// The scheme and host of an absolute URL, read strictly (no user part, visible ASCII, at most 2048 bytes).
struct URLParts {
    let scheme: String
    let host: String

    init?(_ url: String) {
        guard url.utf8.count <= 2048, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), let sep = url.range(of: "://") else { return nil }
        scheme = url[..<sep.lowerBound].lowercased()
        let rest = url[sep.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close].lowercased()
            let after = authority[authority.index(after: close)...]
            guard after.isEmpty || (after.hasPrefix(":") && Int(after.dropFirst()).map({ (1...65535).contains($0) }) == true) else { return nil }
        } else {
            let pieces = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count <= 2, !pieces[0].isEmpty else { return nil }
            if pieces.count == 2 { guard let port = Int(pieces[1]), (1...65535).contains(port) else { return nil } }
            host = pieces[0].lowercased()
        }
    }

    static func ipv4(_ host: String) -> [Int]? {
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { return nil }
        var out: [Int] = []
        for octet in octets {
            guard (1...3).contains(octet.count), octet.allSatisfy(\.isASCII), let value = Int(octet), value <= 255 else { return nil }
            out.append(value)
        }
        return out
    }

    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        return ipv4(host)?.first == 127
    }

    static func isLoopbackOrLinkLocal(_ host: String) -> Bool {
        if isLoopback(host) { return true }
        if let v4 = ipv4(host) { return v4[0] == 169 && v4[1] == 254 }
        if host == "fd00:ec2::23" { return true }
        // fe80::/10: the first group is fe80 to febf.
        let first = host.split(separator: ":", omittingEmptySubsequences: false).first ?? ""
        if host.contains(":"), first.count == 4, let group = Int(first, radix: 16) { return (0xfe80...0xfebf).contains(group) }
        return false
    }
}
