import Foundation
import JSONKit

/// `jwt.jwks_url`: the URL's rules. Fetching the key set, its schedule and the requests that wait for it are the
/// service's (PresignRuntime, `JWKS/`).
extension JWTAuth {
    /// Why `url` cannot be a `jwks_url`, or nil: https, or http to a loopback host (tests, a local sidecar).
    public static func checkJWKSURL(_ url: String) -> String? {
        guard url.utf8.count <= 2048 else { return "must be at most 2048 bytes" }
        guard let sep = url.range(of: "://"), url[..<sep.lowerBound].allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return "must be an absolute https:// URL; got '\(url)'"
        }
        let scheme = url[..<sep.lowerBound].lowercased()
        let text = url[sep.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !text.contains("@") else { return "must not carry a user or password" }
        guard let parts = URLParts(url) else { return "must be an absolute https:// URL; got '\(url)'" }
        switch scheme {
        case "https": return nil
        case "http": return parts.authority.isLoopback ? nil : "http:// is allowed only for a loopback host (127.0.0.0/8, ::1, localhost); use https://"
        default: return "must be an https:// URL; got scheme '\(scheme)'"
        }
    }
}
