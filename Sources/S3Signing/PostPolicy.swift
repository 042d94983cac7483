import JSONKit
import Crypto

/// A browser form upload (`POST` with a signed policy document), for SigV4 and SigV2.
public struct PostPolicy: Sendable {
    /// A policy condition on a form field.
    public enum Condition: Sendable, Hashable {
        /// The field must equal the value exactly.
        case equals(field: String, value: String)
        /// The field must start with the prefix (`""` allows anything).
        case startsWith(field: String, prefix: String)
        /// The uploaded file's size in bytes must be within the range.
        case contentLengthRange(min: Int64, max: Int64)
    }

    public var bucket: String
    /// The object key; may contain `${filename}`, which S3 replaces with the uploaded file's name. Then the key is
    /// constrained with `starts-with` on the part before `${filename}`.
    public var key: String
    public var expiry: Expiry
    /// Extra fields posted as given and pinned by `eq` conditions (Content-Type, success_action_status, ...).
    public var fields: [(name: String, value: String)]
    public var conditions: [Condition]

    public init(
        bucket: String, key: String, expiry: Expiry, fields: [(name: String, value: String)] = [],
        conditions: [Condition] = []
    ) {
        self.bucket = bucket
        self.key = key
        self.expiry = expiry
        self.fields = fields
        self.conditions = conditions
    }

    /// What a client posts: the form action URL and every field, in order, before the `file` field.
    public struct Form: Sendable {
        public let url: String
        public let fields: [(name: String, value: String)]
        public let expires: SigningTime
        /// The policy document before base64, for tests and audit.
        public let policyJSON: String
    }
}

extension S3Presigner {
    /// Signs a POST policy with this backend's signature version.
    public func presignPost(_ policy: PostPolicy, now: SigningTime) throws(SigningError) -> PostPolicy.Form {
        let endpoint = configuration.publicEndpoint ?? configuration.endpoint
        let target = try S3Target(
            endpoint: endpoint, addressing: configuration.addressing, vanityDomains: configuration.vanityDomains,
            bucket: policy.bucket, key: "",
            scope: .bucket)
        try S3Validation.check(key: policy.key.replacingOccurrences(of: "${filename}", with: "f"))
        for condition in policy.conditions {
            if case .contentLengthRange(let min, let max) = condition, min < 0 || max < min {
                throw SigningError(.invalidPolicy, "content-length-range [\(min), \(max)] is empty or negative")
            }
        }
        let expires: SigningTime
        switch policy.expiry {
        case .after(let seconds):
            guard seconds >= 1 else {
                throw SigningError(.invalidExpiry, "POST policy expiry must be between 1 and 604800 seconds; got \(seconds)")
            }
            guard let end = now.addingIfRepresentable(seconds: seconds) else {
                throw SigningError(.invalidExpiry, "expiry of \(seconds) seconds ends after \(SigningTime.latest.iso8601)")
            }
            expires = end
        case .at(let instant): expires = instant
        }
        let lifetime = expires.epochSeconds - now.epochSeconds
        guard lifetime >= 1, configuration.signature != .v4 || lifetime <= SigV4.maxExpires else {
            throw SigningError(
                .invalidExpiry, "POST policy expiry must be between 1 and 604800 seconds; got \(lifetime)")
        }

        var fields: [(name: String, value: String)] = [("key", policy.key)]
        fields += policy.fields
        var json = PolicyJSON()
        json.object(field: "bucket", value: policy.bucket)
        // Found byte for byte, as the policy engine finds it: a Character search misses `${filename}` after a
        // prepended-concatenation mark (U+0600…) and would sign an exact key the engine never checked.
        if let prefix = PostPolicy.bytesBeforeFilename(policy.key) {
            json.array(["starts-with", "$key", prefix])
        } else {
            json.object(field: "key", value: policy.key)
        }
        for (name, value) in policy.fields { json.object(field: name, value: value) }
        for condition in policy.conditions {
            switch condition {
            case .equals(let field, let value): json.array(["eq", "$" + field, value])
            case .startsWith(let field, let prefix): json.array(["starts-with", "$" + field, prefix])
            case .contentLengthRange(let min, let max): json.range(min: min, max: max)
            }
        }
        let credentials = configuration.credentials
        if let dialect = configuration.signature.v2Dialect {
            if let token = credentials.sessionToken {
                json.object(field: "x-amz-security-token", value: token)
                fields.append(("x-amz-security-token", token))
            }
            let document = json.finish(expiration: expires.iso8601)
            let encoded = Base64.encode(Array(document.utf8))
            let signature = SigV2Signer(credentials: credentials, dialect: dialect).signature(stringToSign: encoded)
            fields += [(dialect.accessKeyParameter, credentials.accessKeyId), ("policy", encoded), ("signature", signature)]
            return PostPolicy.Form(url: String(decoding: target.url(query: []), as: UTF8.self), fields: fields, expires: expires, policyJSON: document)
        }
        let scope = SigV4.Scope(dateStamp: now.dateStamp, region: configuration.region, service: "s3")
        var signedFields: [(name: String, value: String)] = [
            ("x-amz-algorithm", SigV4.algorithm),
            ("x-amz-credential", "\(credentials.accessKeyId)/\(scope.string)"),
            ("x-amz-date", now.amzDate),
        ]
        if let token = credentials.sessionToken { signedFields.append(("x-amz-security-token", token)) }
        for (name, value) in signedFields { json.object(field: name, value: value) }
        let document = json.finish(expiration: expires.iso8601)
        let encoded = Base64.encode(Array(document.utf8))
        let key = v4.keyCache.signingKey(
            secret: credentials.secretAccessKey, dateStamp: scope.dateStamp, region: scope.region, service: "s3")
        let signature = SigV4.signature(stringToSign: encoded, signingKey: key)
        fields += signedFields
        fields += [("policy", encoded), ("x-amz-signature", signature)]
        return PostPolicy.Form(url: String(decoding: target.url(query: []), as: UTF8.self), fields: fields, expires: expires, policyJSON: document)
    }
}

/// A POST policy document, written through the one JSON writer: conditions in the order given, then wrapped with
/// the expiration as `{"expiration":…,"conditions":[…]}`.
struct PolicyJSON {
    private var conditions = JSONWriter(capacity: 512)

    init() { conditions.beginArray() }

    mutating func object(field: String, value: String) {
        conditions.beginObject()
        conditions.string(field, value)
        conditions.endObject()
    }

    mutating func array(_ items: [String]) {
        conditions.beginArray()
        for item in items { conditions.string(item) }
        conditions.endArray()
    }

    mutating func range(min: Int64, max: Int64) {
        conditions.beginArray()
        conditions.string("content-length-range")
        conditions.integer(min)
        conditions.integer(max)
        conditions.endArray()
    }

    func finish(expiration: String) -> String {
        var list = conditions
        list.endArray()
        var document = JSONWriter(capacity: list.bytes.count + 48)
        document.beginObject()
        document.string("expiration", expiration)
        document.key("conditions")
        document.raw(list.bytes)
        document.endObject()
        return document.text
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var result = ""
        var rest = Substring(self)
        while let range = rest.range(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        return result + rest
    }
}

extension StringProtocol {
    func range(of target: String) -> Range<Index>? {
        guard !target.isEmpty else { return nil }
        var index = startIndex
        while index < endIndex {
            if self[index...].hasPrefix(target) {
                return index..<self.index(index, offsetBy: target.count)
            }
            index = self.index(after: index)
        }
        return nil
    }
}

extension PostPolicy {
    /// The key's bytes before the first `${filename}`, or nil when it has none: what the form's `starts-with`
    /// condition pins. Found byte for byte, as S3 finds it; the policy engine asks the same function, so what it
    /// checks is what is signed.
    public static func bytesBeforeFilename(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        let marker = Array("${filename}".utf8)
        guard bytes.count >= marker.count else { return nil }
        for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker) {
            return String(decoding: bytes[..<start], as: UTF8.self)
        }
        return nil
    }
}
