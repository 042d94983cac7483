import Crypto
import Foundation
import JSONKit
import JWTKit

/// JWT bearer tokens, verified with jwt-kit's algorithms. The keys are resolved once when the config loads (jwt-kit's
/// key collection is an actor); verifying a token is then synchronous, on the loop thread, with no Task hop.
public enum JWTAuth {
    public struct Failure: Error, Equatable, Sendable {
        public let message: String
        /// The token names a `kid` the key set does not hold (a remote key set may fetch again for it).
        public var unknownKey = false
    }

    /// Verification keys by `kid`; `defaultKey` is used for tokens without one (HS256, or a set with a single key).
    public struct KeySet: Sendable {
        public let keys: [String: any JWTAlgorithm]
        public let defaultKey: (any JWTAlgorithm)?

        public init(keys: [String: any JWTAlgorithm], defaultKey: (any JWTAlgorithm)?) {
            self.keys = keys
            self.defaultKey = defaultKey
        }
    }

    /// The standard claims presignd checks, decoded by jwt-kit's claim types.
    struct StandardClaims: JWTPayload {
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        var sub: SubjectClaim?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    public struct Verifier: Sendable {
        public let issuer: String
        let audience: String
        public let leewaySeconds: Int
        /// Keys by `kid`; `defaultKey` is used for tokens without one (HS256, or a JWKS with a single key).
        let keys: [String: any JWTAlgorithm]
        let defaultKey: (any JWTAlgorithm)?
        /// `jwks_url`: the keys are fetched and kept by the service (`keys` is empty); nil for fixed keys.
        public let jwksURL: String?

        static func build(_ raw: RawConfig.RawJWT, path: String, secrets: SecretSource) async throws(ConfigError) -> Verifier {
            guard !raw.issuer.isEmpty else { throw ConfigError("\(path).issuer", "must not be empty") }
            guard !raw.audience.isEmpty else { throw ConfigError("\(path).audience", "must not be empty") }
            let leeway = raw.leewaySeconds ?? 30
            guard (0...300).contains(leeway) else { throw ConfigError("\(path).leeway_seconds", "must be 0...300") }
            let collection = JWTKeyCollection()
            var keys: [String: any JWTAlgorithm] = [:]
            var defaultKey: (any JWTAlgorithm)?
            if let url = raw.jwksURL {
                guard raw.jwksFile == nil, raw.hs256SecretEnv == nil, raw.hs256SecretFile == nil else {
                    throw ConfigError(path, "give exactly one of jwks_url, jwks_file or hs256_secret_env/hs256_secret_file")
                }
                if let problem = JWTAuth.checkJWKSURL(url) { throw ConfigError("\(path).jwks_url", problem) }
                return Verifier(issuer: raw.issuer, audience: raw.audience, leewaySeconds: leeway, keys: [:], defaultKey: nil, jwksURL: url)
            }
            switch (raw.jwksFile, raw.hs256SecretEnv ?? raw.hs256SecretFile) {
            case (let file?, nil):
                guard let text = secrets.readFile(file) else { throw ConfigError("\(path).jwks_file", "cannot read \(file)") }
                let jwks: JWKS
                do {
                    jwks = try JSONDecoder().decode(JWKS.self, from: Data(text.utf8))
                } catch {
                    throw ConfigError("\(path).jwks_file", "not a JWKS document: \(error)")
                }
                guard !jwks.keys.isEmpty else { throw ConfigError("\(path).jwks_file", "the key set is empty") }
                for (i, jwk) in jwks.keys.enumerated() {
                    guard let kid = jwk.keyIdentifier?.string else {
                        throw ConfigError("\(path).jwks_file", "key \(i) has no kid")
                    }
                    guard jwk.keyType == .rsa || jwk.keyType == .ecdsa else {
                        throw ConfigError("\(path).jwks_file", "key '\(kid)': only RSA (RS256) and EC P-256 (ES256) keys are supported")
                    }
                    do {
                        _ = try await collection.add(jwk: jwk)
                        keys[kid] = try await collection.getKey(for: JWKIdentifier(string: kid))
                    } catch {
                        throw ConfigError("\(path).jwks_file", "key '\(kid)': \(error)")
                    }
                }
                if jwks.keys.count == 1 { defaultKey = keys.values.first }
            case (nil, _?):
                if raw.hs256SecretEnv != nil && raw.hs256SecretFile != nil {
                    throw ConfigError(path, "give hs256_secret_env or hs256_secret_file, not both")
                }
                let secret = try secrets.value(env: raw.hs256SecretEnv, file: raw.hs256SecretFile, path: "\(path).hs256_secret_env", what: "HS256 secret")
                guard secret.utf8.count >= 32 else {
                    throw ConfigError("\(path).hs256_secret_env", "an HS256 secret must be at least 32 bytes")
                }
                await collection.add(hmac: HMACKey(from: Array(secret.utf8)), digestAlgorithm: .sha256, kid: "hs256")
                do {
                    defaultKey = try await collection.getKey(for: "hs256")
                } catch {
                    throw ConfigError(path, "HS256 key: \(error)")
                }
            default:
                throw ConfigError(path, "give exactly one of jwks_url, jwks_file or hs256_secret_env/hs256_secret_file")
            }
            return Verifier(issuer: raw.issuer, audience: raw.audience, leewaySeconds: leeway, keys: keys, defaultKey: defaultKey, jwksURL: nil)
        }

        /// Checks signature, alg, exp, nbf, iss and aud; returns the string and number claims for `${claim}` templates.
        public func verify(_ token: String, now: Date) -> Result<[String: String], Failure> {
            verify(token, now: now, keys: KeySet(keys: keys, defaultKey: defaultKey))
        }

        /// As above with the given keys (a remote key set's current keys).
        public func verify(_ token: String, now: Date, keys set: KeySet) -> Result<[String: String], Failure> {
            let keys = set.keys
            let defaultKey = set.defaultKey
            let bytes = Array(token.utf8)
            let parser = DefaultJWTParser()
            let parts: (header: ArraySlice<UInt8>, payload: ArraySlice<UInt8>, signature: ArraySlice<UInt8>)
            let header: JWTHeader
            let claims: StandardClaims
            let signature: Data
            do {
                parts = try parser.getTokenParts(bytes)
                let parsed = try parser.parse(bytes, as: StandardClaims.self)
                header = parsed.header
                claims = parsed.payload
                signature = parsed.signature
            } catch {
                return .failure(Failure(message: "malformed token"))
            }
            guard let alg = header.alg, alg != "none" else { return .failure(Failure(message: "token is not signed (alg none)")) }
            let key: (any JWTAlgorithm)?
            if let kid = header.kid { key = keys[kid] ?? (keys.isEmpty ? defaultKey : nil) } else { key = defaultKey }
            guard let key else { return .failure(Failure(message: "no key for this token's kid", unknownKey: header.kid != nil)) }
            guard key.name == alg else { return .failure(Failure(message: "token alg \(alg) does not match the key (\(key.name))")) }
            let signingInput = Array(parts.header) + [UInt8(ascii: ".")] + Array(parts.payload)
            let valid = (try? key.verify(Array(signature), signs: signingInput)) ?? false
            guard valid else { return .failure(Failure(message: "bad signature")) }
            let leeway = TimeInterval(leewaySeconds)
            guard let exp = claims.exp else { return .failure(Failure(message: "token has no exp")) }
            do {
                try exp.verifyNotExpired(currentDate: now.addingTimeInterval(-leeway))
            } catch {
                return .failure(Failure(message: "token expired"))
            }
            if let nbf = claims.nbf {
                do { try nbf.verifyNotBefore(currentDate: now.addingTimeInterval(leeway)) } catch {
                    return .failure(Failure(message: "token not valid yet (nbf)"))
                }
            }
            guard claims.iss?.value == issuer else { return .failure(Failure(message: "wrong issuer")) }
            guard let aud = claims.aud, aud.value.contains(audience) else { return .failure(Failure(message: "wrong audience")) }
            return .success(Self.templateClaims(parts.payload))
        }

        /// Top-level string and integer claims, for `${name}` in rule patterns.
        static func templateClaims(_ payload: ArraySlice<UInt8>) -> [String: String] {
            guard let json = Base64.decode(bytes: payload, .url), case .object(let members)? = try? JSONValue.parse(json) else { return [:] }
            var out: [String: String] = [:]
            for (name, value) in members {
                switch value {
                case .string(let text): out[name] = text
                case .integer(let number): out[name] = String(number)
                default: break
                }
            }
            return out
        }
    }

    /// Whether a bearer token looks like a JWT (three dot-separated parts) rather than an API key.
    public static func looksLikeJWT(_ token: String) -> Bool { token.utf8.lazy.filter { $0 == UInt8(ascii: ".") }.count == 2 }

    /// The `iss` of a token before verification, to pick the caller whose keys verify it.
    public static func unverifiedIssuer(_ token: String) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let json = Base64.decode(parts[1], .url),
            case .string(let issuer)? = (try? JSONValue.parse(json))?["iss"]
        else { return nil }
        return issuer
    }
}
