import HTTPServer
import S3Client

/// Answers a request once, from a backend completion on the loop: the S3 result as JSON, XML or an empty status,
/// or the S3 error as `AdminProxy.errorResponse` maps it.
final class AdminReply {
    let context: ResponseContext
    init(context: ResponseContext) { self.context = context }

    func json(_ result: Result<[UInt8], S3Error>) {
        switch result {
        case .success(let body): context.respond(.json(.ok, body))
        case .failure(let error): context.respond(AdminProxy.errorResponse(error))
        }
    }

    func xml(_ result: Result<[UInt8], S3Error>) {
        switch result {
        case .success(let body): context.respond(HTTPResponse(status: .ok, headers: [("Content-Type", "application/xml")], body: body))
        case .failure(let error): context.respond(AdminProxy.errorResponse(error))
        }
    }

    func empty(_ result: Result<S3ResponseHead, S3Error>, status: HTTPStatus = .noContent) {
        switch result {
        case .success: context.respond(HTTPResponse(status: status))
        case .failure(let error): context.respond(AdminProxy.errorResponse(error))
        }
    }
}
