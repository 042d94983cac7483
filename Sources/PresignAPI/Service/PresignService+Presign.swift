import Foundation
import HTTPServer
import JSONKit
import LineLog
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing

/// `POST /v1/presign`: one intent authenticated, rate-limited, decided by policy and signed.
extension PresignService {
    func presign(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let intent = try Intent.presign(try Self.jsonBody(request).get())
            let issued = try sign(intent, path: "", caller: caller, snapshot: snapshot, request: request, now: now).get()
            guard issue(issued, request, snapshot) else { throw Self.auditUnavailable }
            return .json(.ok, issued.body)
        } catch {
            return Self.response(error)
        }
    }

    /// Decides and signs one intent: the success JSON object and its audit line, not yet handed out (`issue` does
    /// that). What the grant is signed as (`Capability.signatureKind`) picks the backend's signer.
    func sign(
        _ intent: Intent, path: String, caller: Authenticated, snapshot: Snapshot, request: HTTPRequest, now: Double
    ) -> Result<Issued, APIError> {
        let grant: Grant
        let expiresAt: SigningTime
        var out = JSONWriter(capacity: 512)
        out.beginObject()
        do throws(APIError) {
            let backend: ServiceConfig.Backend
            (grant, backend) = try decide(intent, caller, snapshot.config, worker: request.worker, path: path)
            let signing = Signing(grant: grant, backend: backend, path: path, worker: request.worker, now: now)
            switch grant.capability.signatureKind {
            case .query(let operation): expiresAt = try signQuery(operation, signing, into: &out)
            case .form: expiresAt = try signForm(signing, into: &out)
            }
        } catch {
            return .failure(error)
        }
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

    /// What one signature is made from: the grant, its backend, and where and when it is asked.
    struct Signing {
        let grant: Grant
        let backend: ServiceConfig.Backend
        let path: String
        let worker: Int
        let now: Double

        var time: SigningTime { SigningTime(epochSeconds: Int64(now)) }
    }

    /// A presigned URL for `operation` by the backend's query signer: `url`, `method`, `headers` and the expiry.
    func signQuery(_ operation: S3Operation, _ signing: Signing, into out: inout JSONWriter) throws(APIError) -> SigningTime {
        let grant = signing.grant
        let signer = try self.signer(.query, signing.backend, worker: signing.worker, now: signing.now).get()
        let lifetime = try self.lifetime(signing, window: signer.window)
        let signed: S3Presigner.PresignedURL
        do throws(SigningError) {
            signed = try signer.signer.sign(
                S3Presigner.Request(
                    operation: operation, bucket: grant.bucket ?? "", key: grant.key ?? "",
                    expiry: .after(seconds: lifetime.seconds), headers: grant.signedHeaders, query: grant.responseQuery),
                now: signing.time)
        } catch {
            throw Self.refused(error, path: signing.path)
        }
        Self.writeSigned(signed.urlBytes, method: signed.method, "headers", signed.headers, signed.expires, lifetime, now: signing.now, into: &out)
        return signed.expires
    }

    /// A browser POST form by the backend's form signer: `url`, `method`, `fields` and the expiry.
    func signForm(_ signing: Signing, into out: inout JSONWriter) throws(APIError) -> SigningTime {
        let grant = signing.grant
        let signer = try self.signer(.form, signing.backend, worker: signing.worker, now: signing.now).get()
        let lifetime = try self.lifetime(signing, window: signer.window)
        let (fields, conditions) = grant.formConditions
        let form: PostPolicy.Form
        do throws(SigningError) {
            form = try signer.signer.sign(
                PostPolicy(bucket: grant.bucket!, key: grant.key!, expiry: .after(seconds: lifetime.seconds), fields: fields, conditions: conditions),
                now: signing.time)
        } catch {
            throw Self.refused(error, path: signing.path)
        }
        Self.writeSigned(form.url.utf8, method: "POST", "fields", form.fields, form.expires, lifetime, now: signing.now, into: &out)
        return form.expires
    }

    /// The grant's lifetime under the signer's credential window (clamped, or 503).
    private func lifetime(_ signing: Signing, window: CredentialWindow) throws(APIError) -> Lifetime {
        try lifetime(signing.grant.lifetime, window: window, backend: signing.backend, minExpiresIn: signing.grant.rule.minExpiresIn,
                     worker: signing.worker, now: signing.now).get()
    }

    /// A signed answer's members: `url`, `method`, what the client must send with it (the signed `headers`, or a
    /// form's `fields`) and the expiry.
    static func writeSigned(
        _ url: some Collection<UInt8>, method: String, _ name: String, _ members: [(name: String, value: String)], _ expires: SigningTime,
        _ lifetime: Lifetime, now: Double, into out: inout JSONWriter
    ) {
        out.string("url", utf8: url)
        out.string("method", method)
        out.key(name)
        out.beginObject()
        for member in members { out.string(member.name, member.value) }
        out.endObject()
        writeExpiry(expires, lifetime, now: now, into: &out)
    }

    /// 400 for what the signer refused, naming the field at `path`.
    static func refused(_ error: SigningError, path: String) -> APIError {
        APIError(.invalidRequest, error.message, field: field(for: error, path: path))
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
