import S3Signing

/// What the policy engine allowed: the rule that allowed it, who for, the lifetime it may have, and every fact of
/// the intent that the grant fixes (the target, the type, the length or range, the checksum, the response
/// overrides). Signers read only this. A grant can be sealed into an opaque token (`Grant+Seal`) that a later
/// request presents, as an upload handle does.
public struct Grant: Sendable {
    public let capability: Capability
    public let rule: PolicyRule
    public let caller: String
    public let subject: String?
    public let backend: String
    public let signature: SignatureVersion
    public let bucket: String?
    /// The key; for a POST form, possibly ending in `${filename}` (see `keyPrefix`).
    public let key: String?
    public let upload: Intent.UploadLimits
    public let response: [Intent.ResponseOverride]
    public let maxUses: Int64?
    /// The longest the grant may live: the rule's `max_expires_in` under the capability's own cap.
    public let maxLifetime: Int64
    /// What was asked, or the capability's default, within `maxLifetime` (before the credentials' clamp).
    public let lifetime: Int64

    init(_ intent: Intent, rule: PolicyRule, principal: Principal, backend: PolicyEngine.Backend) {
        capability = intent.capability
        self.rule = rule
        caller = principal.name
        subject = principal.subject
        self.backend = backend.name
        signature = backend.signature
        bucket = intent.bucket
        key = intent.key
        upload = intent.upload
        response = intent.response
        maxUses = intent.maxUses
        maxLifetime = min(rule.maxExpiresIn, intent.capability.maxLifetime(for: backend.signature))
        lifetime = intent.lifetime ?? min(intent.capability.defaultLifetime(multipart: intent.upload.multipart), maxLifetime)
    }

    /// For a POST form whose key ends in `${filename}`: the text before it, which the form fixes with starts-with.
    public var keyPrefix: String? {
        guard capability == .postForm, let key else { return nil }
        return PostPolicy.bytesBeforeFilename(key)
    }

    /// The headers a signed PUT binds (Content-Type, Content-Length, Content-MD5, the checksum).
    public var signedHeaders: [(name: String, value: String)] {
        guard capability != .postForm else { return [] }
        var headers: [(name: String, value: String)] = []
        if let type = upload.contentType { headers.append(("Content-Type", type)) }
        if let length = upload.contentLength { headers.append(("Content-Length", String(length))) }
        if let md5 = upload.contentMD5 { headers.append(("Content-MD5", md5)) }
        if let sha = upload.checksumSHA256 { headers.append(("x-amz-checksum-sha256", sha)) }
        return headers
    }

    /// The response overrides as query parameters, in S3's order.
    public var responseQuery: [(name: String, value: String)] { response.map { ($0.query, $0.value) } }

    /// The POST policy's conditions and fixed fields: the length range (the request's, or the rule's maximum),
    /// and the content type or its prefix.
    public var formConditions: (fields: [(name: String, value: String)], conditions: [PostPolicy.Condition]) {
        var conditions: [PostPolicy.Condition] = []
        var fields: [(name: String, value: String)] = []
        if let range = upload.lengthRange {
            conditions.append(.contentLengthRange(min: range.lowerBound, max: range.upperBound))
        } else if let max = rule.maxContentLength {
            conditions.append(.contentLengthRange(min: 0, max: max))
        }
        if let type = upload.contentType {
            fields.append(("Content-Type", type))
        } else if let prefix = upload.contentTypePrefix {
            conditions.append(.startsWith(field: "Content-Type", prefix: prefix))
        }
        return (fields, conditions)
    }
}
