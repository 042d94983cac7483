import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Signing

/// Who is calling: an API key (compared in constant time against every key) or a JWT from a configured issuer.
extension PresignService {
    struct Authenticated {
        let caller: Caller
        let claims: [String: String]
    }

    func authenticate(_ request: HTTPRequest, _ config: ServiceConfig, now: Double) -> Result<Authenticated, APIError> {
        func unauthorized(_ message: String, invalidToken: Bool) -> APIError {
            let challenge = invalidToken ? #"Bearer realm="presignd", error="invalid_token""# : #"Bearer realm="presignd""#
            return APIError(status: 401, code: "Unauthorized", message: message, headers: ["WWW-Authenticate": challenge])
        }
        guard let header = request.head.header("Authorization") else {
            return .failure(unauthorized("missing Authorization: Bearer credentials", invalidToken: false))
        }
        guard let token = BearerToken.token(in: header) else {
            return .failure(unauthorized("Authorization must be Bearer <api key or JWT>", invalidToken: false))
        }
        guard !token.isEmpty, token.utf8.count <= 8192 else {
            return .failure(unauthorized("empty or oversized bearer token", invalidToken: true))
        }
        if JWTAuth.looksLikeJWT(token) {
            let issuer = JWTAuth.unverifiedIssuer(token)
            var lastFailure = "no caller accepts tokens from this issuer"
            for caller in config.callers {
                guard case .jwt(let verifier) = caller.auth, verifier.issuer == issuer else { continue }
                switch verifier.verify(token, now: Date(timeIntervalSince1970: now)) {
                case .success(let claims): return .success(Authenticated(caller: caller, claims: claims))
                case .failure(let failure): lastFailure = failure.message
                }
            }
            return .failure(unauthorized("invalid token: \(lastFailure)", invalidToken: true))
        }
        let found = APIKeyAuth.firstMatch(of: APIKeyAuth.digest(token), in: config.callers) { caller in
            if case .apiKey(let expected) = caller.auth { expected } else { nil }
        }
        guard let found else { return .failure(unauthorized("unknown API key", invalidToken: true)) }
        return .success(Authenticated(caller: found, claims: [:]))
    }
}
