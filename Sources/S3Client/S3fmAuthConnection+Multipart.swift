import S3Signing

/// The multipart upload operations, each one signed request (ListParts one per page) on the worker's loop. The
/// sub-resources (`uploads`, `uploadId`, `part-number-marker`) are query parameters, so both SigV4 and SigV2 sign
/// them; UploadPart itself is presigned (`S3Presigner.Request(operation: .put, query: [partNumber, uploadId])`).
extension S3fmAuthConnection {
    /// CreateMultipartUpload. `headers` carries Content-Type and x-amz-checksum-algorithm when given.
    public func createMultipartUpload(
        _ bucket: String, key: String, headers: [(name: String, value: String)], now: SigningTime,
        completion: @escaping (Result<InitiateMultipartUploadResult, S3Error>) -> Void
    ) {
        // An empty body, sent with Content-Length: 0 (S3 answers a POST without a length 411).
        document(.createMultipartUpload(bucket, key: key, headers: headers), body: [], now: now, completion: completion)
    }

    /// ListParts, all pages (follows NextPartNumberMarker while IsTruncated), up to 10000 parts; refuses (S3Error
    /// .invalid or a bad-response error) more than 10000 or a marker that does not advance.
    public func listParts(
        _ bucket: String, key: String, uploadId: String, now: SigningTime,
        completion: @escaping (Result<[MultipartPart], S3Error>) -> Void
    ) {
        guard let uploadId = Self.checked(uploadId: uploadId, completion) else { return }
        var collected: [MultipartPart] = []
        func page(after marker: Int) {
            document(.listParts(bucket, key: key, uploadId: uploadId, after: marker), now: now, as: ListPartsResult.self) { answer in
                do throws(S3Error) {
                    if let next = try answer.get().append(to: &collected, after: marker) {
                        page(after: next)
                    } else {
                        completion(.success(collected))
                    }
                } catch {
                    completion(.failure(error))
                }
            }
        }
        page(after: 0)
    }

    /// CompleteMultipartUpload with the parts in ascending order; `objectSize` sent as x-amz-mp-object-size when
    /// known. A 200 whose body is an <Error> document is a failure with that S3 code (`.s3(status: 200, …)`).
    public func completeMultipartUpload(
        _ bucket: String, key: String, uploadId: String, parts: [CompletedPart], objectSize: Int64?, now: SigningTime,
        completion: @escaping (Result<CompleteMultipartUploadResult, S3Error>) -> Void
    ) {
        guard let uploadId = Self.checked(uploadId: uploadId, completion) else { return }
        let body: [UInt8]
        do throws(S3Error) {
            body = try CompletedPart.completeMultipartUpload(parts)
        } catch {
            completion(.failure(error))
            return
        }
        if let objectSize, objectSize < 0 {
            completion(.failure(.invalid("object size \(objectSize) is negative")))
            return
        }
        readXML(.completeMultipartUpload(bucket, key: key, uploadId: uploadId, objectSize: objectSize), body: body, now: now,
                schema: CompleteMultipartUploadResult.schema) { result in
            completion(result.flatMap { CompleteMultipartUploadResult.outcome(.success($0.root)) })
        }
    }

    public func abortMultipartUpload(
        _ bucket: String, key: String, uploadId: String, now: SigningTime,
        completion: @escaping (Result<S3ResponseHead, S3Error>) -> Void
    ) {
        guard let uploadId = Self.checked(uploadId: uploadId, completion) else { return }
        fetch(.abortMultipartUpload(bucket, key: key, uploadId: uploadId), now: now) { completion($0.map(\.0)) }
    }

    /// ListMultipartUploads (first page is enough: used by tests and operators), at most 1000 uploads.
    public func listMultipartUploads(
        _ bucket: String, now: SigningTime, completion: @escaping (Result<[MultipartUploadSummary], S3Error>) -> Void
    ) {
        document(.listMultipartUploads(bucket), now: now, as: ListMultipartUploadsResult.self) { completion($0.map(\.uploads)) }
    }

    /// The upload id, or nil after failing `completion`: an empty id would turn abort into DeleteObject and
    /// complete into a plain POST.
    static func checked<T>(uploadId: String, _ completion: (Result<T, S3Error>) -> Void) -> String? {
        guard S3XML.isToken(uploadId) else {
            completion(.failure(.invalid("upload id must be 1-\(MultipartLimits.maxTokenBytes) bytes without control characters")))
            return nil
        }
        return uploadId
    }
}

/// The request each multipart operation sends (signed by `start` like every call), named for tests.
extension S3fmAuthConnection.Call {
    /// `POST /bucket/key?uploads` (the S3 operation stands in for scope and checks; the method is POST).
    public static func createMultipartUpload(_ bucket: String, key: String, headers: [(name: String, value: String)]) -> Self {
        Self(.put, bucket: bucket, key: key, query: [("uploads", "")], headers: headers, method: "POST")
    }

    /// `GET /bucket/key?uploadId=…`, with `part-number-marker` after the first page.
    public static func listParts(_ bucket: String, key: String, uploadId: String, after marker: Int) -> Self {
        var query = [(name: "uploadId", value: uploadId)]
        if marker > 0 { query.append(("part-number-marker", String(marker))) }
        return Self(.get, bucket: bucket, key: key, query: query)
    }

    /// `POST /bucket/key?uploadId=…` with an XML body.
    public static func completeMultipartUpload(_ bucket: String, key: String, uploadId: String, objectSize: Int64?) -> Self {
        var headers = [(name: "Content-Type", value: "application/xml")]
        if let objectSize { headers.append(("x-amz-mp-object-size", String(objectSize))) }
        return Self(.put, bucket: bucket, key: key, query: [("uploadId", uploadId)], headers: headers, method: "POST")
    }

    /// `DELETE /bucket/key?uploadId=…`.
    public static func abortMultipartUpload(_ bucket: String, key: String, uploadId: String) -> Self {
        Self(.delete, bucket: bucket, key: key, query: [("uploadId", uploadId)])
    }

    /// `GET /bucket/?uploads&max-uploads=1000`.
    public static func listMultipartUploads(_ bucket: String) -> Self {
        Self(.listBucket, bucket: bucket, query: [("uploads", ""), ("max-uploads", String(MultipartLimits.maxUploadsPage))])
    }
}
