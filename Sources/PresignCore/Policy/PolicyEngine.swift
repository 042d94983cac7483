import JSONKit
import Foundation
import S3Signing

/// Deny by default; a request is allowed when one rule of its caller allows every condition.
public enum PolicyEngine {
    public struct Denial: Error, Equatable, Sendable {
        /// A short, fixed reason for metrics: invalid_key, no_rule, bucket, key, backend, expires, content_type,
        /// content_length, claim.
        public let reason: String
        public let message: String
    }

    /// The checks on a key before any rule: its exact bytes, with nothing normalized.
    public static func checkKey(_ key: String) -> Denial? {
        var key = key
        return key.withUTF8 { bytes -> Denial? in
            if bytes.isEmpty { return Denial(reason: "invalid_key", message: "key must not be empty") }
            if bytes.count > 1024 { return Denial(reason: "invalid_key", message: "key is longer than 1024 bytes") }
            // `.` and `..` segments are refused, not normalized: S3 keeps them as written, but HTTP clients, proxies
            // and S3-compatible stores that map keys to paths may remove them, so the object reached is not the one
            // the rule matched. Empty segments (`a//b`) are kept by S3 and matched as written, so they are allowed.
            var segmentStart = 0
            var dotSegment = false
            var dotDotSegment = false
            for index in 0...bytes.count {
                if index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                    let length = index - segmentStart
                    if length == 1 && bytes[segmentStart] == 0x2E { dotSegment = true }
                    if length == 2 && bytes[segmentStart] == 0x2E && bytes[segmentStart + 1] == 0x2E { dotDotSegment = true }
                    segmentStart = index + 1
                    continue
                }
                let b = bytes[index]
                if b < 0x20 || b == 0x7F { return Denial(reason: "invalid_key", message: "key contains NUL or control characters") }
                // U+FFFD: what invalid UTF-8 became on the way in.
                if b == 0xEF && index + 2 < bytes.count && bytes[index + 1] == 0xBF && bytes[index + 2] == 0xBD {
                    return Denial(reason: "invalid_key", message: "key is not valid UTF-8")
                }
            }
            if dotDotSegment { return Denial(reason: "invalid_key", message: "key contains a '..' segment") }
            if dotSegment { return Denial(reason: "invalid_key", message: "key contains a '.' segment") }
            return nil
        }
    }

    /// The one policy decision: the first rule of `principal` that allows every condition of `intent` on
    /// `backend`, as a `Grant` of what was fixed; otherwise the first rule's reason (or `no_rule`).
    public static func evaluate(_ intent: Intent, _ principal: Principal, backend: Backend) -> Result<Grant, Denial> {
        firstAllowing(intent, principal, backend: backend).map { Grant(intent, rule: $0, principal: principal, backend: backend) }
    }

    /// What `evaluate` decides, without building the grant: nil when a rule allows `intent`, else the denial.
    public static func denial(_ intent: Intent, _ principal: Principal, backend: Backend) -> Denial? {
        switch firstAllowing(intent, principal, backend: backend) {
        case .success: return nil
        case .failure(let denial): return denial
        }
    }

    /// The first rule of `principal` that allows every condition of `intent`, or the first rule's reason.
    static func firstAllowing(_ intent: Intent, _ principal: Principal, backend: Backend) -> Result<PolicyRule, Denial> {
        if let key = intent.key, let denial = checkKey(key) { return .failure(denial) }
        var firstFailure: Denial?
        let wanted = intent.capability.bit
        for rule in principal.rules where rule.capabilities.contains(wanted) {
            switch check(rule, intent, backend: backend, claims: principal.claims) {
            case nil: return .success(rule)
            case let denial?: if firstFailure == nil { firstFailure = denial }
            }
        }
        if let firstFailure { return .failure(firstFailure) }
        return .failure(Denial(reason: "no_rule", message: "no rule of caller '\(principal.name)' allows operation \(intent.capability)"))
    }

    /// The backend a request is decided for: its name and how it signs.
    public struct Backend: Sendable {
        public let name: String
        public let signature: SignatureVersion

        public init(name: String, signature: SignatureVersion) {
            self.name = name
            self.signature = signature
        }
    }

    /// For `post_object`: the text before the first `${filename}`, which S3 replaces with the uploaded file's
    /// name. Found byte for byte, as S3 finds it (the form is signed with starts-with on this text).
    static func filenamePrefix(_ key: String) -> String? { PostPolicy.bytesBeforeFilename(key) }

    /// `response.content_type` makes S3 answer with that type whatever the object is, so it is held to the
    /// rule's `content_types` when the rule has them; when it has none, it may be anything but a script-capable
    /// type (a `.png` answered as `text/html` runs script on the bucket's origin).
    static func checkResponseType(_ type: String, _ rule: PolicyRule) -> Denial? {
        let media = MediaType(type)
        if let types = rule.contentTypes {
            guard types.contains(where: { PolicyRule.contentType(type, matches: $0) }) else {
                return Denial(reason: "content_type", message: "\(rule.label): response.content_type '\(type)' is not one of \(types.joined(separator: ", "))\(rule.scriptNote(media))")
            }
            return nil
        }
        guard let media else {
            return Denial(reason: "content_type", message: "\(rule.label): response.content_type '\(type)' is not one media type")
        }
        if media.isScriptCapable {
            return Denial(reason: "content_type", message: "\(rule.label): response.content_type '\(type)' can run script; list it in the rule's content_types to allow it")
        }
        return nil
    }

    static func check(_ rule: PolicyRule, _ request: Intent, backend: Backend, claims: [String: String]) -> Denial? {
        if let pinned = rule.backend, pinned != backend.name {
            return Denial(reason: "backend", message: "\(rule.label): backend '\(backend.name)' is not '\(pinned)'")
        }
        let bucketName = request.bucket ?? ""
        if request.bucket == nil && rule.bucket.description != "*" {
            return Denial(reason: "bucket", message: "\(rule.label): operation \(request.capability) names no bucket; the rule needs bucket '*'")
        }
        switch rule.bucket.match(bucketName, claims: claims) {
        case .matches: break
        case .noMatch: return Denial(reason: "bucket", message: "\(rule.label): bucket '\(bucketName)' does not match '\(rule.bucket)'")
        case .unusableClaim(let name): return Denial(reason: "claim", message: "\(rule.label): claim '\(name)' is missing or unusable in '\(rule.bucket)'")
        }
        if let key = request.key {
            let outcome: KeyPattern.Outcome
            let filenamePrefix = request.capability == .postForm ? Self.filenamePrefix(key) : nil
            if let prefix = filenamePrefix {
                // The form is signed with starts-with on `prefix`: the uploader picks the rest of the key.
                outcome = rule.key.coversEveryKey(startingWith: prefix, claims: claims)
            } else {
                outcome = rule.key.match(key, claims: claims)
            }
            switch outcome {
            case .matches: break
            case .noMatch:
                if let prefix = filenamePrefix {
                    return Denial(reason: "key", message: "\(rule.label): key '\(key)' lets the uploader choose any key that starts with '\(prefix)', and '\(rule.key)' does not allow all of them; give the exact key")
                }
                return Denial(reason: "key", message: "\(rule.label): key '\(key)' does not match '\(rule.key)'")
            case .unusableClaim(let name): return Denial(reason: "claim", message: "\(rule.label): claim '\(name)' is missing or unusable in '\(rule.key)'")
            }
        } else if !rule.key.matchesEverything {
            // Config loading refuses such rules; this keeps the engine safe on its own.
            return Denial(reason: "key", message: "\(rule.label): operation \(request.capability) is not about one object, so key '\(rule.key)' cannot limit it; the rule needs key '*'")
        }
        let cap = min(rule.maxExpiresIn, request.capability.maxLifetime(for: backend.signature))
        if let asked = request.lifetime, asked > cap {
            return Denial(reason: "expires", message: "\(rule.label): expires_in \(asked) is over max_expires_in \(cap)")
        }
        let uploads = request.capability.storesBody
        if let types = rule.contentTypes, uploads {
            if let type = request.upload.contentType {
                if !types.contains(where: { PolicyRule.contentType(type, matches: $0) }) {
                    return Denial(reason: "content_type", message: "\(rule.label): content_type '\(type)' is not one of \(types.joined(separator: ", "))\(rule.scriptNote(MediaType(type)))")
                }
            } else if let prefix = request.upload.contentTypePrefix, request.capability == .postForm {
                if !types.contains(where: { PolicyRule.prefix(prefix, coveredBy: $0) }) {
                    return Denial(reason: "content_type", message: "\(rule.label): content_type_prefix '\(prefix)' also admits script-capable types and lists of types; only */* covers a prefix, so give an exact content_type (allowed: \(types.joined(separator: ", ")))")
                }
            } else {
                return Denial(reason: "content_type", message: "\(rule.label): content_type is required (allowed: \(types.joined(separator: ", ")))")
            }
        }
        if let type = request.responseContentType, let denial = Self.checkResponseType(type, rule) { return denial }
        if let max = rule.maxContentLength, uploads {
            if request.upload.multipart {
                if let length = request.upload.contentLength, length > max {
                    return Denial(reason: "content_length", message: "\(rule.label): content_length \(length) is over max_content_length \(max)")
                }
            } else if request.capability == .sign(.put) {
                guard backend.signature == .v4 else {
                    return Denial(reason: "content_length", message: "\(rule.label): max_content_length needs a SigV4 backend (SigV2 cannot sign Content-Length)")
                }
                guard let length = request.upload.contentLength else {
                    return Denial(reason: "content_length", message: "\(rule.label): content_length is required (at most \(max))")
                }
                if length > max {
                    return Denial(reason: "content_length", message: "\(rule.label): content_length \(length) is over max_content_length \(max)")
                }
            } else if let range = request.upload.lengthRange, range.upperBound > max {
                return Denial(reason: "content_length", message: "\(rule.label): content_length_range max \(range.upperBound) is over max_content_length \(max)")
            }
        }
        return nil
    }
}
