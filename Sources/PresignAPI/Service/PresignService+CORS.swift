import Foundation
import HTTPServer
import PresignCore
import JSONKit
import Logging
import PresignConfig
import S3Signing

/// CORS preflight answers for the configured origins.
extension PresignService {
    func preflight(_ request: HTTPRequest, _ snapshot: Snapshot) -> HTTPResponse {
        preflight(request, snapshot, methods: ["POST"])
    }

    /// `methods`: what the resource takes besides OPTIONS.
    func preflight(_ request: HTTPRequest, _ snapshot: Snapshot, methods: [String]) -> HTTPResponse {
        let allow = (methods + ["OPTIONS"]).joined(separator: ", ")
        guard let origin = request.head.header("Origin") else {
            // A plain OPTIONS (no CORS): say what the resource supports.
            return HTTPResponse(status: .noContent, headers: [("Allow", allow)])
        }
        guard let cors = snapshot.config.cors, cors.allows(origin) else {
            return Self.response(APIError(.corsOriginDenied, "origin \(origin) is not allowed"))
        }
        if let method = request.head.header("Access-Control-Request-Method"), !methods.contains(method) {
            let use = methods.count == 1 ? methods[0] : methods.joined(separator: ", ")
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
