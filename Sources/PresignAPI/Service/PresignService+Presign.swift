import Foundation
import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignConfig
import PresignCore
import S3Signing

/// `POST /v1/presign`: one intent authenticated, rate-limited, decided by policy and signed.
extension PresignService {
    func presign(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let intent = try Intent.presign(try Self.jsonBody(request).get())
            let issued = try sign(intent, path: "", caller: caller, snapshot: snapshot, request: request, now: now).get()
            guard issue([issued], request, snapshot.config) else { throw Self.auditUnavailable }
            return .json(.ok, issued.body)
        } catch {
            return Self.response(error)
        }
    }

    /// Decides and signs one intent: the success JSON object and its audit line, not yet handed out (`issue` does
    /// that).
    func sign(
        _ intent: Intent, path: String, caller: Authenticated, snapshot: Snapshot, request: HTTPRequest, now: Double
    ) -> Result<Issued, APIError> {
        let grant: Grant
        let backend: ServiceConfig.Backend
        let signer: ServiceConfig.Signer
        let lifetime: Lifetime
        do throws(APIError) {
            (grant, backend) = try decide(intent, caller, snapshot.config, worker: request.worker, path: path)
            signer = try self.signer(backend, worker: request.worker, now: now).get()
            lifetime = try self.lifetime(grant.lifetime, signer: signer, backend: backend, minExpiresIn: grant.rule.minExpiresIn,
                                         worker: request.worker, now: now).get()
        } catch {
            return .failure(error)
        }
        let signingTime = SigningTime(epochSeconds: Int64(now))
        var out = JSONWriter(capacity: 512)
        out.beginObject()
        let expiresAt: SigningTime
        do {
            switch grant.capability {
            case .postForm:
                let (fields, conditions) = grant.formConditions
                let form = try signer.presigner.presignPost(
                    PostPolicy(bucket: grant.bucket!, key: grant.key!, expiry: .after(seconds: lifetime.seconds), fields: fields, conditions: conditions),
                    now: signingTime)
                expiresAt = form.expires
                out.string("url", form.url)
                out.string("method", "POST")
                out.key("fields")
                out.beginObject()
                for field in form.fields { out.string(field.name, field.value) }
                out.endObject()
            case .sign(let operation):
                let signed = try signer.presigner.presign(
                    S3Presigner.Request(
                        operation: operation, bucket: grant.bucket ?? "", key: grant.key ?? "",
                        expiry: .after(seconds: lifetime.seconds), headers: grant.signedHeaders, query: grant.responseQuery),
                    now: signingTime)
                expiresAt = signed.expires
                out.string("url", signed.url)
                out.string("method", signed.method)
                out.key("headers")
                out.beginObject()
                for header in signed.headers { out.string(header.name, header.value) }
                out.endObject()
            case .shareLink:
                // Decoding a presign intent refuses it (its endpoint is POST /v1/links); kept total rather than trapping.
                return .failure(.invalid(path.isEmpty ? "operation" : "\(path).operation", "share_link is created with POST /v1/links"))
            }
        } catch {
            return .failure(APIError(.invalidRequest, error.message, field: Self.field(for: error, path: path)))
        }
        Self.writeExpiry(expiresAt, lifetime, now: now, into: &out)
        out.string("signature_version", Self.versionName(grant.signature))
        out.endObject()
        var line: String?
        if snapshot.config.auditLog {
            var event = Self.auditEvent("presign", request, caller: grant.caller, backend: grant.backend, bucket: grant.bucket, key: grant.key, now: now)
            event.operation = grant.capability.name
            event.expiresAt = expiresAt.iso8601
            line = event.line
        }
        return .success(Issued(body: out.bytes, auditLine: line, operation: grant.capability.name, backend: grant.backend))
    }

    static func versionName(_ version: SignatureVersion) -> String {
        switch version {
        case .v4: return "v4"
        case .v2: return "v2"
        case .s3fm: return "s3fm"
        }
    }

    static func field(for error: SigningError, path: String) -> String? {
        let name: String?
        switch error.code {
        case .invalidBucketName: name = "bucket"
        case .invalidKey: name = "key"
        case .invalidExpiry: name = "expires_in"
        default: name = nil
        }
        return name.map { path.isEmpty ? $0 : "\(path).\($0)" }
    }
}
