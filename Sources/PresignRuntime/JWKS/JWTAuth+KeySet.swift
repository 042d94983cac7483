import JWTKit
import PresignConfig

/// Turning a fetched JWKS document's keys into a `KeySet` through jwt-kit (whose key collection is an actor, so
/// this is async: `RemoteKeySet` runs it off the loop and hands the result back).
extension JWTAuth {
    /// The RS256 and ES256 keys of `jwks` that have a `kid`, by kid, and why each other key was left out. A set
    /// with a single usable key also verifies tokens without a kid.
    public static func keySet(from jwks: [JWK]) async -> (keys: KeySet, skipped: [String]) {
        let collection = JWTKeyCollection()
        var keys: [String: any JWTAlgorithm] = [:]
        var skipped: [String] = []
        for (index, jwk) in jwks.enumerated() {
            guard let kid = jwk.keyIdentifier?.string, !kid.isEmpty else {
                skipped.append("key \(index) has no kid")
                continue
            }
            let alg: String
            switch jwk.keyType {
            case .rsa: alg = "RS256"
            case .ecdsa: alg = "ES256"
            default:
                skipped.append("key '\(kid)': type \(jwk.keyType.rawValue) is not RSA or EC")
                continue
            }
            if let given = jwk.algorithm, given.rawValue != alg {
                skipped.append("key '\(kid)': alg \(given.rawValue) (only RS256 and ES256 are used)")
                continue
            }
            do {
                _ = try await collection.add(jwk: jwk)
                let key = try await collection.getKey(for: JWKIdentifier(string: kid), alg: alg)
                guard key.name == alg else {
                    skipped.append("key '\(kid)': \(key.name), not \(alg)")
                    continue
                }
                keys[kid] = key
            } catch {
                skipped.append("key '\(kid)': \(error)")
            }
        }
        return (KeySet(keys: keys, defaultKey: keys.count == 1 ? keys.values.first : nil), skipped)
    }
}
