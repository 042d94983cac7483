import PresignConfig
import JSONKit
import Foundation
import S3Signing

/// What a presign request asks for, as the policy engine sees it.
public struct PolicyRequest: Sendable {
    public var operation: PresignOperation
    public var backend: String
    public var bucket: String?
    public var key: String?
    public var expiresIn: Int64
    public var signature: SignatureVersion
    public var contentType: String?
    public var contentLength: Int64?
    /// post_object only.
    public var contentTypePrefix: String?
    public var contentLengthRange: (min: Int64, max: Int64)?
    /// get/head only: the `response-content-type` the URL makes S3 answer with.
    public var responseContentType: String?
    /// A multipart upload: its size is enforced on each signed part and on the parts' total at complete, so a
    /// length is not required up front (and SigV2 backends, which cannot sign one, may take part).
    public var multipart = false

    public init(
        operation: PresignOperation, backend: String, bucket: String?, key: String?, expiresIn: Int64, signature: SignatureVersion,
        contentType: String? = nil, contentLength: Int64? = nil, contentTypePrefix: String? = nil,
        contentLengthRange: (min: Int64, max: Int64)? = nil, responseContentType: String? = nil
    ) {
        self.responseContentType = responseContentType
        self.operation = operation
        self.backend = backend
        self.bucket = bucket
        self.key = key
        self.expiresIn = expiresIn
        self.signature = signature
        self.contentType = contentType
        self.contentLength = contentLength
        self.contentTypePrefix = contentTypePrefix
        self.contentLengthRange = contentLengthRange
    }
}
