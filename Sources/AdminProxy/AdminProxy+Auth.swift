import HTTPServer
import PresignConfig
import PresignCore

extension AdminProxy {
    /// `Authorization: Bearer <token>` whose SHA-256 is one of the config's admin digests. Every digest is compared,
    /// each in constant time, so the answer's timing says nothing about which one (or how much of one) matched.
    func authorized(_ request: HTTPRequest, _ config: ServiceConfig) -> Bool {
        guard let header = request.head.header(.authorization), let token = BearerToken.token(in: header), !token.isEmpty
        else { return false }
        return APIKeyAuth.firstMatch(of: APIKeyAuth.digest(token), in: config.adminTokenDigests) { $0 } != nil
    }

    /// 401 for a call without the admin token.
    static let unauthorized = APIError(
        .unauthorized, "admin calls need Authorization: Bearer <admin token>", headers: ["WWW-Authenticate": #"Bearer realm="presignd-admin""#])
}
