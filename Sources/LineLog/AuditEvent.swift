import JSONKit

/// One audit event: whatever presignd grants, uses or takes back (a presigned URL, a share link made, used or
/// revoked, an upload step, an admin call) is one of these, written as one JSON line by `AuditLog`. Never a secret,
/// a signature, a token or a URL. Members are written in one fixed order, each only when the event has it
/// (`bucket` and `key` as `null` when the event is about none).
public struct AuditEvent: Sendable {
    /// `presign`, `link_create`, `link_use`, `link_head`, `link_revoke`, `upload`, `admin`.
    public var kind: String
    /// An upload's step (`create`, `sign_parts`, …).
    public var step: String?
    /// ISO 8601, to the second.
    public var time: String
    public var requestId: String
    /// The client's own `X-Request-Id`, marked as theirs.
    public var clientRequestId: String?
    /// A share link's 8-character id prefix.
    public var link: String?
    public var caller: String
    public var subject: String?
    public var operation: String?
    public var backend: String
    public var bucket: String?
    public var key: String?
    public var use: Int64?
    public var parts: Int?
    public var size: Int64?
    public var expiresAt: String?
    public var clientIP: String

    public init(
        kind: String, time: String, requestId: String, clientRequestId: String?, caller: String, backend: String,
        bucket: String?, key: String?, clientIP: String
    ) {
        self.kind = kind
        self.time = time
        self.requestId = requestId
        self.clientRequestId = clientRequestId
        self.caller = caller
        self.backend = backend
        self.bucket = bucket
        self.key = key
        self.clientIP = clientIP
    }

    /// The line, without its newline.
    public var line: String {
        var out = JSONWriter(capacity: 320)
        out.beginObject()
        out.string("audit", kind)
        if let step { out.string("step", step) }
        out.string("time", time)
        out.string("request_id", requestId)
        if let clientRequestId { out.string("client_request_id", clientRequestId) }
        if let link { out.string("link", link) }
        out.string("caller", caller)
        if let subject { out.string("subject", subject) }
        if let operation { out.string("operation", operation) }
        out.string("backend", backend)
        out.optionalString("bucket", bucket)
        out.optionalString("key", key)
        if let use { out.integer("use", use) }
        if let parts { out.integer("parts", parts) }
        if let size { out.integer("size", size) }
        if let expiresAt { out.string("expires_at", expiresAt) }
        out.string("client_ip", clientIP)
        out.endObject()
        return out.text
    }
}
