import Foundation
import HTTPServer
import PresignCore
import JSONKit
import Logging
import PresignConfig
import S3Signing

/// CORS preflight answers for the configured origins.
extension PresignService {
    /// The OPTIONS answer the endpoint table generates for a path: `methods` are what its caller rows take (in
    /// `Allow` order), besides OPTIONS.
    func preflight(_ request: HTTPRequest, _ snapshot: Snapshot, methods: [HTTPMethod]) -> HTTPResponse {
        let allow = HTTPMethod.allowHeader(methods)
        guard let origin = request.head.header(.origin) else {
            // A plain OPTIONS (no CORS): say what the resource supports.
            return HTTPResponse(status: .noContent, headers: [("Allow", allow)])
        }
        guard let cors = snapshot.config.cors, cors.allows(origin) else {
            return Self.response(APIError(.corsOriginDenied, "origin \(origin) is not allowed"))
        }
        if let method = request.head.header(.accessControlRequestMethod), !methods.contains(HTTPMethod(method)) {
            let use = methods.map(\.name).joined(separator: ", ")
            return Self.response(APIError(.corsMethodDenied, "method \(method) is not allowed; use \(use)"))
        }
        return HTTPResponse(status: .noContent, headers: [
            ("Access-Control-Allow-Origin", origin),
            ("Vary", "Origin"),
            ("Access-Control-Allow-Methods", allow),
            ("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-Id"),
            ("Access-Control-Max-Age", String(cors.maxAge)),
        ])
    }
}
