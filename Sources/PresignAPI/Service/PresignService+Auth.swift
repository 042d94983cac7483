import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing
import UVLoop

/// Who is calling: an API key (found by the SHA-256 of the key, `APIKeyIndex`) or a JWT from a configured issuer
/// (verified, or found among this worker's recently verified tokens, `VerifiedTokens`).
extension PresignService {
    struct Authenticated {
        let caller: Caller
        let claims: [String: String]

        /// The caller as the policy engine sees it.
        var principal: Principal { Principal(name: caller.name, rules: caller.rules, claims: claims) }
    }

    /// What the keys at hand say about a request: an answer, or that a remote key set must fetch first.
    enum AuthAttempt {
        case done(Result<Authenticated, APIError>)
        case missingKeys(RemoteKeySet)
    }

    /// Authenticates the request. A JWT whose `kid` a remote key set (`jwks_url`) does not hold, or any JWT of its
    /// issuer before the first good fetch, waits for one fetch (rate-limited per key set, `RemoteKeySet.keyMissing`)
    /// and is judged on what it brought; `done` runs at once or later, on the request's loop.
    func authenticate(
        _ request: HTTPRequest, _ context: ResponseContext, _ snapshot: Snapshot,
        _ done: @escaping (Result<Authenticated, APIError>) -> Void
    ) {
        let loop = context.eventLoopIfAttached
        let set: RemoteKeySet
        switch authenticate(request, snapshot, loop: loop, now: clock.wallSeconds(), fetched: false) {
        case .done(let result): return done(result)
        case .missingKeys(let missing): set = missing
        }
        let again = { [self] in
            if case .done(let result) = authenticate(request, snapshot, loop: loop, now: clock.wallSeconds(), fetched: true) { done(result) }
        }
        if set.keyMissing(loop: loop, again) != nil { again() }
    }

    /// One pass over the credentials with the keys at hand; with `fetched`, a missing key is final (401, or 503
    /// `KeysUnavailable` while a remote key set has never been fetched).
    func authenticate(_ request: HTTPRequest, _ snapshot: Snapshot, loop: EventLoop?, now: Double, fetched: Bool) -> AuthAttempt {
        func unauthorized(_ message: String, invalidToken: Bool) -> AuthAttempt {
            let challenge = invalidToken ? #"Bearer realm="presignd", error="invalid_token""# : #"Bearer realm="presignd""#
            return .done(.failure(APIError(.unauthorized, message, headers: ["WWW-Authenticate": challenge])))
        }
        guard let header = request.head.header(.authorization) else {
            return unauthorized("missing Authorization: Bearer credentials", invalidToken: false)
        }
        guard let token = BearerToken.token(in: header) else {
            return unauthorized("Authorization must be Bearer <api key or JWT>", invalidToken: false)
        }
        guard !token.isEmpty, token.utf8.count <= 8192 else {
            return unauthorized("empty or oversized bearer token", invalidToken: true)
        }
        let config = snapshot.config
        if JWTAuth.looksLikeJWT(token) {
            let cache = snapshot.derived.verifiedTokens
            if let hit = cache.lookup(token, worker: request.worker, now: now) {
                return .done(.success(Authenticated(caller: config.callers[hit.caller], claims: hit.claims)))
            }
            let issuer = JWTAuth.unverifiedIssuer(token)
            let date = Date(timeIntervalSince1970: now)
            var lastFailure = "no caller accepts tokens from this issuer"
            var missing: RemoteKeySet?
            var unavailable: RemoteKeySet?
            for caller in config.callers {
                guard case .jwt(let verifier) = caller.auth, ASCII.same(verifier.issuer, issuer) else { continue }
                let result: Result<[String: String], JWTAuth.Failure>
                if let url = verifier.jwksURL {
                    guard let set = snapshot.derived.remoteKeys[RemoteKeySets.name(issuer: verifier.issuer, url: url)] else { continue }
                    let view = set.view(worker: request.worker)
                    set.refreshIfDue(view, loop: loop)
                    guard let keys = view.keys else {
                        if fetched { unavailable = unavailable ?? set } else { missing = missing ?? set }
                        continue
                    }
                    result = verifier.verify(token, now: date, keys: keys)
                    if case .failure(let failure) = result, failure.unknownKey, !fetched { missing = missing ?? set }
                } else {
                    result = verifier.verify(token, now: date)
                }
                switch result {
                case .success(let claims):
                    cache.insert(token, caller: caller.index, claims: claims, leeway: verifier.leewaySeconds, worker: request.worker, now: now)
                    return .done(.success(Authenticated(caller: caller, claims: claims)))
                case .failure(let failure): lastFailure = failure.message
                }
            }
            if let missing { return .missingKeys(missing) }
            if let unavailable {
                return .done(.failure(APIError(.keysUnavailable, "the keys of issuer '\(unavailable.issuer)' have not been fetched from its jwks_url yet; retry",
                    headers: ["Retry-After": String(unavailable.retryAfter())])))
            }
            return unauthorized("invalid token: \(lastFailure)", invalidToken: true)
        }
        guard let index = snapshot.derived.apiKeys.caller(digest: APIKeyAuth.digest(token)) else {
            return unauthorized("unknown API key", invalidToken: true)
        }
        return .done(.success(Authenticated(caller: config.callers[index], claims: [:])))
    }

    /// Starts the first fetch of every remote key set, on worker 0's loop as it starts serving (`serve` passes this
    /// to the server's `onLoopStart`); key sets a reload adds start on first use.
    public func startBackgroundWork(on loop: EventLoop) {
        guard loop.index == 0 else { return }
        for set in store.generation(worker: 0).derived.remoteKeys.values {
            set.refreshIfDue(set.view(worker: 0), loop: loop)
        }
    }
}
