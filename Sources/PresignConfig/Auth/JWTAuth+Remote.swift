import Foundation

/// `jwt.jwks_url`: the URL's rules. Fetching the key set, its schedule and the requests that wait for it are the
/// service's (PresignRuntime, `JWKS/`).
extension JWTAuth {
    /// Why `url` cannot be a `jwks_url`, or nil: https, or http to a loopback host (tests, a local sidecar).
    public static func checkJWKSURL(_ url: String) -> String? {
        guard url.utf8.count <= 2048 else { return "must be at most 2048 bytes" }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(),
            let host = parts.host, !host.isEmpty
        else { return "must be an absolute https:// URL; got '\(url)'" }
        guard parts.user == nil, parts.password == nil else { return "must not carry a user or password" }
        switch scheme {
        case "https": return nil
        case "http": return isLoopback(host) ? nil : "http:// is allowed only for a loopback host (127.0.0.0/8, ::1, localhost); use https://"
        default: return "must be an https:// URL; got scheme '\(scheme)'"
        }
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
