import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import PresignCore
import S3Signing

/// `POST /v1/presign/batch`: up to 100 requests; an invalid item fails the batch, a refused one fails alone.
extension PresignService {
    /// Its row authenticates the caller (a JWT may wait for its issuer's keys) and takes no units: the items do.
    func batch(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        signBatch(request, caller, context, snapshot)
        return nil
    }

    private func signBatch(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) {
        let now = clock.wallSeconds()
        // An invalid item (wrong types, unknown fields, fields its operation does not take) fails the whole batch
        // with 400 naming it; a valid item that is refused (policy, unknown backend, rate limit) fails alone.
        let items: [Intent]
        do throws(APIError) {
            items = try Intent.batch(try Self.jsonBody(request).get())
        } catch {
            return context.respond(Self.response(error))
        }
        // Each item costs one unit of the rate limit; the first `admitted` items are signed, the rest refused.
        limit(caller, cost: items.count, request, context, snapshot) { [self] result in
            let admission: Admission
            switch result {
            case .failure(let error): return context.respond(Self.response(error))
            case .success(let got): admission = got
            }
            var results: [Result<Issued, APIError>] = []
            for (index, intent) in items.enumerated() {
                if index >= admission.admitted {
                    results.append(.failure(APIError(.rateLimited, "caller '\(caller.caller.name)' is over its rate limit; retry after \(admission.retryAfter) s")))
                } else {
                    results.append(sign(intent, path: "requests[\(index)]", caller: caller, snapshot: snapshot, request: request, now: now))
                }
            }
            // Every URL of the batch is audited, or the whole batch is refused: none is handed out unaudited.
            let grants = results.compactMap { try? $0.get() }
            guard issue(grants, request, snapshot) else { return context.respond(Self.response(Self.auditUnavailable)) }
            var body = JSONWriter(capacity: items.count * 400 + 16)
            body.beginObject()
            body.key("results")
            body.beginArray()
            for result in results {
                switch result {
                case .success(let grant): body.raw(grant.body)
                case .failure(let error): Self.errorItem(error, into: &body)
                }
            }
            body.endArray()
            body.endObject()
            context.respond(.json(.ok, body.bytes))
        }
    }
}
