import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import S3Signing

/// `POST /v1/presign`: one request authenticated, rate-limited, checked, authorized by policy and signed.
extension PresignService {
    func presign(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let parsed = try PresignRequest.parse(try Self.parseJSON(request).get())
            let checked = try CheckedRequest.check(parsed, path: "")
            let grant = try sign(parsed, checked, path: "", caller: caller, snapshot: snapshot, request: request, now: now).get()
            guard issue([grant], request, snapshot.config) else { throw Self.auditUnavailable }
            return .json(.ok, grant.body)
        } catch {
            return Self.response(error)
        }
    }

    /// Checks, authorizes and signs one request: the success JSON object and its audit line, not yet handed out
    /// (`issue` does that).
    func sign(
        _ parsed: PresignRequest, _ checked: CheckedRequest, path: String, caller: Authenticated, snapshot: Snapshot,
        request: HTTPRequest, now: Double
    ) -> Result<Grant, APIError> {
        let config = snapshot.config
        let backendName: String
        let backend: ServiceConfig.Backend
        switch config.backend(named: parsed.backend) {
        case .success(let chosen):
            (backendName, backend) = chosen
        case .failure(.unknown(let name)):
            return .failure(APIError(status: 404, code: "BackendNotFound", message: "no backend named '\(name)'",
                                     field: path.isEmpty ? "backend" : "\(path).backend"))
        case .failure(.ambiguous):
            return .failure(.invalid(path.isEmpty ? "backend" : "\(path).backend", "is required when several backends are configured"))
        }
        let signature = backend.signature
        let policyRequest = PolicyRequest(
            operation: checked.operation, backend: backendName, bucket: checked.bucket, key: checked.key,
            expiresIn: parsed.expiresIn ?? 0, signature: signature, contentType: parsed.contentType,
            contentLength: parsed.contentLength, contentTypePrefix: parsed.contentTypePrefix,
            contentLengthRange: checked.lengthRange, responseContentType: parsed.response?["content_type"])
        let rule: PolicyRule
        switch PolicyEngine.evaluate(policyRequest, caller: caller.caller, claims: caller.claims) {
        case .success(let r): rule = r
        case .failure(let denial):
            metrics.denied(worker: request.worker, reason: denial.reason)
            return .failure(APIError(status: 403, code: "PolicyDenied", message: denial.message))
        }
        let cap = signature == .v4 ? min(rule.maxExpiresIn, SigV4.maxExpires) : rule.maxExpiresIn
        let signer: ServiceConfig.Signer
        let lifetime: Lifetime
        switch self.signer(backend, worker: request.worker, now: now) {
        case .success(let current): signer = current
        case .failure(let error): return .failure(error)
        }
        switch self.lifetime(parsed.expiresIn ?? min(900, cap), signer: signer, backend: backend, minExpiresIn: rule.minExpiresIn,
                             worker: request.worker, now: now) {
        case .success(let clamped): lifetime = clamped
        case .failure(let error): return .failure(error)
        }
        let expiresIn = lifetime.seconds
        let signingTime = SigningTime(epochSeconds: Int64(now))
        var out = JSONWriter(capacity: 512)
        out.beginObject()
        let expiresAt: SigningTime
        do {
            switch checked.operation {
            case .shareLink:
                // `CheckedRequest.check` refuses it first; kept total rather than trapping.
                return .failure(.invalid(path.isEmpty ? "operation" : "\(path).operation", "share_link is created with POST /v1/links"))
            case .postObject:
                var conditions: [PostPolicy.Condition] = []
                var fields: [(name: String, value: String)] = []
                let ruleMax = rule.maxContentLength
                if let range = checked.lengthRange {
                    conditions.append(.contentLengthRange(min: range.min, max: range.max))
                } else if let ruleMax {
                    conditions.append(.contentLengthRange(min: 0, max: ruleMax))
                }
                if let type = parsed.contentType {
                    fields.append(("Content-Type", type))
                } else if let prefix = parsed.contentTypePrefix {
                    conditions.append(.startsWith(field: "Content-Type", prefix: prefix))
                }
                let form = try signer.presigner.presignPost(
                    PostPolicy(bucket: checked.bucket!, key: checked.key!, expiry: .after(seconds: expiresIn), fields: fields, conditions: conditions),
                    now: signingTime)
                expiresAt = form.expires
                out.string("url", form.url)
                out.string("method", "POST")
                out.key("fields")
                out.beginObject()
                for field in form.fields { out.string(field.name, field.value) }
                out.endObject()
            case .s3(let operation):
                let signed = try signer.presigner.presign(
                    S3Presigner.Request(
                        operation: operation, bucket: checked.bucket ?? "", key: checked.key ?? "",
                        expiry: .after(seconds: expiresIn), headers: checked.headers, query: checked.query),
                    now: signingTime)
                expiresAt = signed.expires
                out.string("url", signed.url)
                out.string("method", signed.method)
                out.key("headers")
                out.beginObject()
                for header in signed.headers { out.string(header.name, header.value) }
                out.endObject()
            }
        } catch {
            return .failure(APIError(status: 400, code: "InvalidRequest", message: error.message,
                                     field: Self.field(for: error, path: path)))
        }
        Self.writeExpiry(expiresAt, lifetime, now: now, into: &out)
        out.string("signature_version", Self.versionName(signature))
        out.endObject()
        let line = config.auditLog
            ? auditLine(request: request, caller: caller.caller.name, operation: parsed.operation, backend: backendName,
                        bucket: checked.bucket, key: checked.key, expiresAt: expiresAt, now: now)
            : nil
        return .success(Grant(body: out.bytes, auditLine: line, operation: parsed.operation, backend: backendName))
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
