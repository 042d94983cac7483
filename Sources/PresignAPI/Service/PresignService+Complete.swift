import HTTPServer
import JSONKit
import PresignConfig
import PresignCore
import S3Client
import S3Signing

/// `POST /v1/uploads/{upload}/complete` in four S3 calls on the worker's loop, each answering the next from its
/// completion: ListParts (every page), then `CompletePlan` decides; CompleteMultipartUpload with
/// `x-amz-mp-object-size`; HEAD of the stored object; and DELETE when the stored object is over the limit (it grew
/// between the listing and the complete, or the store ignored the size header) or its size cannot be read.
extension PresignService {
    /// What every step after the listing needs.
    struct Completion {
        let upload: OpenedUpload
        let connection: S3fmAuthConnection
        let time: SigningTime
        let request: HTTPRequest
        let limits: [CompletePlan.Limit]
        let answer: (HTTPResponse) -> Void
        var token: UploadToken { upload.token }
    }

    func completeUpload(_ request: HTTPRequest, _ caller: Authenticated, _ context: ResponseContext, _ snapshot: Snapshot) -> HTTPResponse? {
        do throws(APIError) {
            let upload = try openUpload(request, caller, snapshot)
            let token = upload.token
            let algorithm = token.checksumAlgorithm
            let parsed = try CompleteUploadRequest.parse(try Self.parseJSON(request).get(), algorithm: algorithm)
            // Checked before S3 is asked: once the object is complete its line is written if it fits (or dropped).
            try requireAuditRoom(snapshot)
            let step = Completion(
                upload: upload, connection: try s3(upload.backend, context, worker: request.worker, now: upload.now),
                time: SigningTime(epochSeconds: Int64(upload.now)), request: request,
                limits: CompletePlan.limits(rule: upload.rule.maxContentLength, declared: token.contentLength), answer: context.respond)
            // The sizes come from S3, not from the client: presignd lists the parts itself.
            step.connection.listParts(token.bucket, key: token.key, uploadId: token.uploadId, now: step.time) { [self] listed in
                completeListed(listed, parsed, algorithm, step)
            }
            return nil
        } catch {
            return Self.response(error)
        }
    }

    /// The parts S3 holds are known: refuse a part it does not list, abort over the limit, or complete.
    private func completeListed(
        _ listed: Result<[MultipartPart], S3Error>, _ parsed: CompleteUploadRequest, _ algorithm: ChecksumAlgorithm?,
        _ step: Completion
    ) {
        let token = step.token
        let stored: [MultipartPart]
        switch listed {
        case .failure(let error):
            step.answer(Self.response(Self.apiError(error)))
            return
        case .success(let parts):
            stored = parts
        }
        switch CompletePlan.decide(listed: stored, named: parsed.parts, limits: step.limits) {
        case .notUploaded(let part, let listed):
            let why = listed ? "S3 lists part \(part) with another ETag than the one given" : "S3 does not list part \(part)"
            step.answer(Self.response(APIError(.partNotUploaded, "\(why): finish uploading it (or name the ETag its PUT answered), then complete again; nothing was completed")))
        case .overLimit(let total, let limit):
            step.connection.abortMultipartUpload(token.bucket, key: token.key, uploadId: token.uploadId, now: step.time) { [self] _ in
                writeUploadAudit("abort_over_limit", step.request, token: token, now: step.upload.now, size: total, grants: false)
                step.answer(Self.response(APIError(.policyDenied, "the upload's parts hold \(total) bytes, over its \(limit.name) \(limit.value); the upload was aborted")))
            }
        case .complete(let total):
            let parts = parsed.parts.map { part in
                let checksum = algorithm == nil ? nil : part.checksum
                return CompletedPart(number: part.number, etag: part.etag, checksumAlgorithm: checksum == nil ? nil : algorithm?.rawValue, checksum: checksum)
            }
            step.connection.completeMultipartUpload(
                token.bucket, key: token.key, uploadId: token.uploadId, parts: parts, objectSize: total, now: step.time
            ) { [self] completed in
                switch completed {
                case .failure(let error):
                    step.answer(Self.response(Self.apiError(error)))
                case .success(let result):
                    step.connection.head(token.bucket, key: token.key, now: step.time) { [self] head in
                        completeStored(head, result, parts: parts.count, step)
                    }
                }
            }
        }
    }

    /// S3 completed: the object's own size decides. Over a limit, or unreadable, the object is deleted.
    private func completeStored(
        _ head: Result<S3ResponseHead, S3Error>, _ result: CompleteMultipartUploadResult, parts: Int, _ step: Completion
    ) {
        let token = step.token
        let size: Int64
        switch head {
        case .success(let answer):
            guard let read = CompletePlan.storedSize(answer.value("Content-Length")) else {
                deleteStored(step, audit: "delete_unverified", size: nil) { deleted in
                    APIError(.badGateway, "S3's HEAD of the completed object has no readable Content-Length; the object \(deleted)")
                }
                return
            }
            size = read
        case .failure(let error):
            let reason = error.answer
            deleteStored(step, audit: "delete_unverified", size: nil) { deleted in
                APIError(
                    reason.status == 504 ? .gatewayTimeout : .badGateway,
                    "the completed object's size could not be read (\(reason.code): \(reason.message)); the object \(deleted)")
            }
            return
        }
        if let limit = CompletePlan.exceeded(size, step.limits) {
            deleteStored(step, audit: "delete_over_limit", size: size) { deleted in
                APIError(.policyDenied, "the completed object holds \(size) bytes, over its \(limit.name) \(limit.value); the object \(deleted)")
            }
            return
        }
        var out = JSONWriter(capacity: 256)
        out.beginObject()
        out.string("bucket", token.bucket)
        out.string("key", token.key)
        out.string("etag", result.etag)
        out.integer("size", size)
        out.endObject()
        writeUploadAudit("complete", step.request, token: token, now: step.upload.now, parts: parts, size: size, grants: false)
        step.answer(.json(.ok, out.bytes))
    }

    /// Deletes the completed object and answers `error(outcome)`, the outcome being "was deleted" or why not (the
    /// audit step then ends in `_failed`).
    private func deleteStored(_ step: Completion, audit: String, size: Int64?, _ error: @escaping (String) -> APIError) {
        let token = step.token
        step.connection.delete(token.bucket, key: token.key, now: step.time) { [self] deleted in
            switch deleted {
            case .success:
                writeUploadAudit(audit, step.request, token: token, now: step.upload.now, size: size, grants: false)
                step.answer(Self.response(error("was deleted")))
            case .failure(let failure):
                let reason = failure.answer
                writeUploadAudit(audit + "_failed", step.request, token: token, now: step.upload.now, size: size, grants: false)
                step.answer(Self.response(error("could not be deleted (\(reason.code): \(reason.message))")))
            }
        }
    }
}
