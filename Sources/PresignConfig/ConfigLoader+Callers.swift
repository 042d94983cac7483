import Crypto
import Foundation
import S3Signing
import RedisClient
import Yams
import PresignCore

/// Callers and their rules: auth, rate limits, and each rule's operations, patterns, lifetimes and types.
extension ConfigLoader {
    static func caller(
        _ raw: RawConfig.RawCaller, index: Int, path: String, backends: [String: ServiceConfig.Backend], secrets: SecretSource
    ) async throws(ConfigError) -> Caller {
        let auth: Caller.Auth
        switch (raw.auth.apiKeySHA256, raw.auth.jwt) {
        case (let hex?, nil):
            guard let digest = APIKeyAuth.parseDigest(hex) else {
                throw ConfigError("\(path).auth.api_key_sha256", "must be 64 hex digits (sha256 of the key)")
            }
            auth = .apiKey(digest: digest)
        case (nil, let jwt?):
            if let leeway = jwt.leewaySeconds {
                _ = try ConfigBounds.check(leeway, ConfigBounds.jwtLeeway, path: "\(path).auth.jwt.leeway_seconds")
            }
            auth = .jwt(try await JWTAuth.Verifier.build(jwt, path: "\(path).auth.jwt", secrets: secrets))
        default:
            throw ConfigError("\(path).auth", "give exactly one of api_key_sha256 or jwt")
        }
        var rateLimit: Caller.RateLimit?
        if let r = raw.rateLimit {
            rateLimit = .init(
                perSecond: try ConfigBounds.check(r.perSecond, ConfigBounds.ratePerSecond, path: "\(path).rate_limit.per_second"),
                burst: try ConfigBounds.check(r.burst, ConfigBounds.burst, path: "\(path).rate_limit.burst"))
            switch r.per ?? "caller" {
            case "caller": break
            case "subject": rateLimit?.perSubject = true
            case let other: throw ConfigError("\(path).rate_limit.per", "must be caller or subject (got '\(other)')")
            }
        }
        guard !raw.rules.isEmpty else { throw ConfigError("\(path).rules", "a caller needs at least one rule") }
        var rules: [PolicyRule] = []
        for (i, rawRule) in raw.rules.enumerated() {
            rules.append(try rule(rawRule, number: i + 1, path: "\(path).rules[\(i)]", backends: backends))
        }
        return Caller(name: raw.name, index: index, auth: auth, rateLimit: rateLimit, rules: rules)
    }

    static func rule(
        _ raw: RawConfig.RawRule, number: Int, path: String, backends: [String: ServiceConfig.Backend]
    ) throws(ConfigError) -> PolicyRule {
        guard !raw.operations.isEmpty else { throw ConfigError("\(path).operations", "list at least one operation") }
        var operations: Set<Capability> = []
        for (i, op) in raw.operations.enumerated() {
            guard let operation = Capability(name: op) else {
                throw ConfigError("\(path).operations[\(i)]", "unknown operation '\(op)'")
            }
            operations.insert(operation)
        }
        if let backend = raw.backend, backends[backend] == nil {
            throw ConfigError("\(path).backend", "no backend named '\(backend)'")
        }
        let v4Only = raw.backend.map { backends[$0]!.signature == .v4 }
            ?? backends.values.allSatisfy { $0.signature == .v4 }
        _ = try ConfigBounds.check(raw.maxExpiresIn, ConfigBounds.maxExpiresIn, path: "\(path).max_expires_in")
        if v4Only && operations.contains(where: { raw.maxExpiresIn > $0.maxLifetime(for: .v4) }) {
            throw ConfigError("\(path).max_expires_in", "SigV4 URLs live at most 604800 s (7 days); only a share_link-only rule may allow longer")
        }
        let bucket: KeyPattern
        let key: KeyPattern
        do {
            bucket = try KeyPattern(raw.bucket)
        } catch { throw ConfigError("\(path).bucket", error.message) }
        do {
            key = try KeyPattern(raw.key ?? "*")
        } catch { throw ConfigError("\(path).key", error.message) }
        // A listing, a bucket ACL or a bucket delete is signed for the whole bucket: a key pattern cannot narrow
        // it, so a rule that has one would grant more than it says. Refused here rather than ignored at request time.
        if !key.matchesEverything, let wide = raw.operations.first(where: { Capability(name: $0)?.scope != .object }) {
            throw ConfigError("\(path).key", "\(wide) is not about one object, so a key pattern cannot limit it (it would sign the whole bucket); give bucket operations their own rule with key '*'")
        }
        for (i, type) in (raw.contentTypes ?? []).enumerated() {
            let parts = type.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, parts[0] != "*" || parts[1] == "*",
                type.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
            else { throw ConfigError("\(path).content_types[\(i)]", "expected type/subtype, type/* or */*") }
        }
        if let max = raw.maxContentLength {
            _ = try ConfigBounds.check(max, ConfigBounds.maxContentLength, path: "\(path).max_content_length")
        }
        if let min = raw.minExpiresIn {
            _ = try ConfigBounds.check(min, ConfigBounds.maxExpiresIn, path: "\(path).min_expires_in")
            guard min <= raw.maxExpiresIn else { throw ConfigError("\(path).min_expires_in", "is over max_expires_in (\(raw.maxExpiresIn))") }
        }
        return PolicyRule(
            number: number, name: raw.name, operations: operations, bucket: bucket, key: key,
            backend: raw.backend, maxExpiresIn: raw.maxExpiresIn, contentTypes: raw.contentTypes,
            maxContentLength: raw.maxContentLength, minExpiresIn: raw.minExpiresIn)
    }
}
