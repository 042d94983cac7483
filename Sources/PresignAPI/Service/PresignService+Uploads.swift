import Foundation
import HTTPServer
import JSONKit
import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Client
import S3Signing

/// Multipart uploads: create, sign parts, list, complete, abort. Allowed when a rule of the caller allows `put` for
/// the backend, bucket and key; that rule's content types and size limit apply. The `upload` handle is a sealed
/// `UploadToken`; one that is another caller's, tampered or expired is 404 `UploadNotFound`, all alike. S3 calls
/// run on the worker's loop through its curl client; the handler answers from their completion.
extension PresignService {
    /// What every call on an existing upload starts from.
    struct OpenedUpload {
        let caller: Authenticated
        let token: UploadToken
        let backend: ServiceConfig.Backend
        /// The upload's grant under today's config.
        let grant: Grant
        let now: Double
        var rule: PolicyRule { grant.rule }
    }

    static let uploadNotFound = APIError(.uploadNotFound, "no such upload")

    func uploadKey(_ config: ServiceConfig) throws(APIError) -> [UInt8] {
        guard let key = config.uploadTokenKey else {
            throw APIError(.uploadsDisabled, "multipart uploads need uploads.token_secret_env or _file in the config")
        }
        return key
    }

    /// Opens the `{upload}` handle for this caller: every way it can fail is the same 404.
    func openUpload(_ request: HTTPRequest, _ caller: Authenticated, _ snapshot: Snapshot) throws(APIError) -> OpenedUpload {
        let now = clock.wallSeconds()
        let secret = try uploadKey(snapshot.config)
        guard let handle = request.parameters["upload"], let token = UploadToken.open(handle, with: secret),
            Double(token.expiresAt) > now, ASCII.same(token.caller, caller.caller.name), ASCII.same(token.subject, caller.claims["sub"]),
            let backend = snapshot.config.backends[token.backend]
        else { throw Self.uploadNotFound }
        // The grant still holds under today's config.
        let grant = try decide(token.intent, caller.principal, backend, worker: request.worker)
        return OpenedUpload(caller: caller, token: token, backend: backend, grant: grant, now: now)
    }

    /// The backend's connection on this loop, signing with its current credentials (a new set gets a new
    /// connection), or 503 `CredentialsUnavailable`.
    func s3(_ backend: ServiceConfig.Backend, _ context: ResponseContext, worker: Int, now: Double) throws(APIError) -> S3fmAuthConnection {
        let calls = try signer(.calls, backend, worker: worker, now: now).get()
        return uploadConnections.connection(
            backend: backend.name, presigner: calls.signer,
            timeouts: .init(connect: backend.connectTimeout, total: backend.requestTimeout, lowSpeed: backend.lowSpeedTimeout),
            on: context.eventLoop)
    }

    /// S3's failure in the API's error shape, with S3's status and code. An error S3 sent inside a 200 (complete
    /// does that) is still a failure: 502, with S3's code.
    static func apiError(_ error: S3Error) -> APIError {
        let answer = error.answer
        return .upstream(status: answer.status < 400 ? 502 : answer.status, code: answer.code, message: answer.message)
    }

    // MARK: POST /v1/uploads

    func createUpload(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let now = clock.wallSeconds()
            let secret = try uploadKey(snapshot.config)
            let intent = try Intent.upload(try Self.jsonBody(request).get())
            let (grant, backend) = try decide(intent, caller, snapshot.config, worker: request.worker)
            var headers: [(name: String, value: String)] = []
            if let type = grant.upload.contentType { headers.append(("Content-Type", type)) }
            if let algorithm = grant.upload.checksumAlgorithm { headers.append(("x-amz-checksum-algorithm", algorithm.rawValue)) }
            try requireAuditRoom(snapshot)
            try s3(backend, context, worker: request.worker, now: now).createMultipartUpload(
                grant.bucket!, key: grant.key!, headers: headers, now: SigningTime(epochSeconds: Int64(now))
            ) { [self] result in
                switch result {
                case .failure(let error):
                    context.respond(Self.response(Self.apiError(error)))
                case .success(let created):
                    let expiresAt = Int64(now) + grant.lifetime
                    let token = UploadToken(grant, uploadId: created.uploadId, expiresAt: expiresAt)
                    var out = JSONWriter(capacity: 512)
                    out.beginObject()
                    out.string("upload", token.sealed(with: secret))
                    out.string("bucket", token.bucket)
                    out.string("key", token.key)
                    out.integer("part_size_min", MultipartLimits.minPartSize)
                    out.integer("max_parts", MultipartLimits.maxParts)
                    out.string("expires_at", SigningTime(epochSeconds: expiresAt).iso8601)
                    out.endObject()
                    guard writeUploadAudit("create", request, token: token, now: now) else { return context.respond(Self.response(Self.auditUnavailable)) }
                    context.respond(.json(.created, out.bytes))
                }
            }
            return nil
        } catch {
            return Self.response(error)
        }
    }

    // MARK: POST /v1/uploads/{upload}/parts

    func signParts(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let upload = try openUpload(request, caller, snapshot)
            let token = upload.token
            let algorithm = token.checksumAlgorithm
            let parsed = try SignPartsRequest.parse(try Self.parseJSON(request).get(), algorithm: algorithm)
            let signature = upload.backend.signature
            let signer = try self.signer(.query, upload.backend, worker: request.worker, now: upload.now).get()
            let cap = min(upload.grant.maxLifetime, token.expiresAt - Int64(upload.now))
            guard cap >= 1 else { throw Self.uploadNotFound }
            if let asked = parsed.expiresIn, asked > cap {
                throw APIError(.policyDenied, "expires_in \(asked) is over \(cap) (the rule's max_expires_in or the upload's own expiry)")
            }
            let lifetime = parsed.expiresIn ?? min(UploadLimits.defaultPartURLLifetime, cap)
            let limit = [upload.rule.maxContentLength, token.contentLength].compactMap { $0 }.min()
            var out = JSONWriter(capacity: 600 * parsed.parts.count + 16)
            out.beginObject()
            out.key("parts")
            out.beginArray()
            for (index, part) in parsed.parts.enumerated() {
                var headers: [(name: String, value: String)] = []
                if let length = part.contentLength {
                    if let limit, length > limit {
                        throw APIError(.policyDenied, "parts[\(index)].content_length \(length) is over the upload's limit \(limit)")
                    }
                    guard signature == .v4 else { throw .invalid("parts[\(index)].content_length", "needs a SigV4 backend (SigV2 cannot sign Content-Length)") }
                    headers.append(("Content-Length", String(length)))
                }
                if let algorithm, let checksum = part.checksum { headers.append((algorithm.header, checksum)) }
                let partLifetime = try self.lifetime(
                    lifetime, window: signer.window, backend: upload.backend, minExpiresIn: upload.rule.minExpiresIn, worker: request.worker, now: upload.now
                ).get()
                let signed: S3Presigner.PresignedURL
                do throws(SigningError) {
                    signed = try signer.signer.sign(
                        S3Presigner.Request(
                            operation: .put, bucket: token.bucket, key: token.key, expiry: .after(seconds: partLifetime.seconds),
                            headers: headers, query: [("partNumber", String(part.number)), ("uploadId", token.uploadId)]),
                        now: SigningTime(epochSeconds: Int64(upload.now)))
                } catch {
                    throw APIError(.invalidRequest, error.message)
                }
                out.beginObject()
                out.integer("number", part.number)
                Self.writeSigned(signed.urlBytes, method: "PUT", "headers", signed.headers, signed.expires, partLifetime, now: upload.now, into: &out)
                out.endObject()
            }
            out.endArray()
            out.endObject()
            guard writeUploadAudit("sign_parts", request, token: token, now: upload.now, parts: parsed.parts.count) else { throw Self.auditUnavailable }
            return .json(.ok, out.bytes)
        } catch {
            return Self.response(error)
        }
    }

    // MARK: GET /v1/uploads/{upload}/parts

    /// Every entry S3 lists, in its order (ascending part numbers): a part uploaded again before the complete is
    /// shown once per version S3 keeps, each with its own ETag and size, since only the client knows which PUT it
    /// means to keep (the ETag it names at complete chooses it). S3's listing cannot say which version is newest.

    func listUploadParts(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let upload = try openUpload(request, caller, snapshot)
            let token = upload.token
            try requireAuditRoom(snapshot)
            try s3(upload.backend, context, worker: request.worker, now: upload.now).listParts(
                token.bucket, key: token.key, uploadId: token.uploadId, now: SigningTime(epochSeconds: Int64(upload.now))
            ) { [self] result in
                switch result {
                case .failure(let error):
                    context.respond(Self.response(Self.apiError(error)))
                case .success(let parts):
                    var out = JSONWriter(capacity: 64 * parts.count + 16)
                    out.beginObject()
                    out.key("parts")
                    out.beginArray()
                    for part in parts {
                        out.beginObject()
                        out.integer("number", part.number)
                        out.string("etag", part.etag)
                        out.integer("size", part.size)
                        out.endObject()
                    }
                    out.endArray()
                    out.endObject()
                    guard writeUploadAudit("list_parts", request, token: token, now: upload.now, parts: parts.count) else { return context.respond(Self.response(Self.auditUnavailable)) }
                    context.respond(.json(.ok, out.bytes))
                }
            }
            return nil
        } catch {
            return Self.response(error)
        }
    }

    // MARK: DELETE /v1/uploads/{upload}

    func abortUpload(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let upload = try openUpload(request, caller, snapshot)
            let token = upload.token
            try s3(upload.backend, context, worker: request.worker, now: upload.now).abortMultipartUpload(
                token.bucket, key: token.key, uploadId: token.uploadId, now: SigningTime(epochSeconds: Int64(upload.now))
            ) { [self] result in
                switch result {
                case .failure(let error):
                    context.respond(Self.response(Self.apiError(error)))
                case .success:
                    writeUploadAudit("abort", request, token: token, now: upload.now, grants: false)
                    context.respond(HTTPResponse(status: .noContent))
                }
            }
            return nil
        } catch {
            return Self.response(error)
        }
    }
}
