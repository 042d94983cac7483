import PresignConfig
import PresignCore
import S3Signing

/// The policy engine asked as the routes ask it (an intent, a backend, a caller), in the shape the policy tests
/// write their cases: one value per case, fields changed between expectations.
struct PolicyAsk {
    var intent: Intent
    var backend: String
    var signature: SignatureVersion

    init(
        operation: Capability, backend: String, bucket: String?, key: String?, expiresIn: Int64, signature: SignatureVersion,
        contentType: String? = nil, contentLength: Int64? = nil, contentTypePrefix: String? = nil,
        contentLengthRange: (min: Int64, max: Int64)? = nil, responseContentType: String? = nil
    ) {
        intent = Intent(capability: operation, bucket: bucket, key: key, lifetime: expiresIn)
        intent.upload.contentType = contentType
        intent.upload.contentLength = contentLength
        intent.upload.contentTypePrefix = contentTypePrefix
        intent.upload.lengthRange = contentLengthRange.map { $0.min...$0.max }
        if let responseContentType { intent.response = Intent.responseOverrides(["content_type": responseContentType]) }
        self.backend = backend
        self.signature = signature
    }

    var operation: Capability {
        get { intent.capability }
        set { intent.capability = newValue }
    }
    var contentType: String? {
        get { intent.upload.contentType }
        set { intent.upload.contentType = newValue }
    }
    var contentTypePrefix: String? {
        get { intent.upload.contentTypePrefix }
        set { intent.upload.contentTypePrefix = newValue }
    }
    var contentLengthRange: (Int64, Int64)? {
        get { intent.upload.lengthRange.map { ($0.lowerBound, $0.upperBound) } }
        set { intent.upload.lengthRange = newValue.map { $0.0...$0.1 } }
    }
    var multipart: Bool {
        get { intent.upload.multipart }
        set { intent.upload.multipart = newValue }
    }
}

extension PolicyEngine {
    static func evaluate(_ ask: PolicyAsk, caller: Caller, claims: [String: String]) -> Result<PolicyRule, Denial> {
        evaluate(ask.intent, Principal(name: caller.name, rules: caller.rules, claims: claims),
                 backend: Backend(name: ask.backend, signature: ask.signature)).map(\.rule)
    }
}
