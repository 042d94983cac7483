import Foundation
import S3Signing

/// A glob over bucket names or object keys: `*` matches any run of bytes (slashes included), `${claim}` is replaced
/// by the caller's JWT claim before matching. Claims that could widen the match are refused, so `users/${sub}/*`
/// never matches for a `sub` that contains `/`, `*`, `..` or control characters.
public struct KeyPattern: Sendable, Equatable, CustomStringConvertible {
    enum Piece: Sendable, Equatable {
        case literal([UInt8])
        case star
        case claim(String)
    }

    let pieces: [Piece]
    public let description: String

    public struct PatternError: Error { public let message: String }

    public init(_ text: String) throws(PatternError) {
        description = text
        var pieces: [Piece] = []
        var literal: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b < 0x20 || b == 0x7F { throw PatternError(message: "control characters are not allowed") }
            if b == UInt8(ascii: "*") {
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
                if pieces.last != .star { pieces.append(.star) }
                i += 1
            } else if b == UInt8(ascii: "$") && i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "{") {
                guard let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw PatternError(message: "unclosed ${ in '\(text)'")
                }
                let name = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
                guard !name.isEmpty, name.utf8.allSatisfy({ Self.isNameByte($0) }) else {
                    throw PatternError(message: "claim names are letters, digits, '_' or '-': '${\(name)}'")
                }
                if !literal.isEmpty { pieces.append(.literal(literal)); literal = [] }
                pieces.append(.claim(name))
                i = close + 1
            } else {
                literal.append(b)
                i += 1
            }
        }
        if !literal.isEmpty { pieces.append(.literal(literal)) }
        guard !pieces.isEmpty else { throw PatternError(message: "a pattern must not be empty") }
        self.pieces = pieces
    }

    static func isNameByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    public var claimNames: [String] {
        pieces.compactMap { if case .claim(let name) = $0 { name } else { nil } }
    }

    /// A claim value that may stand in a pattern: one path segment of printable text, not `.`/`..`, no glob.
    static func isSafeClaimValue(_ value: String) -> Bool {
        guard !value.isEmpty, value != ".", value != "..", value.utf8.count <= 256 else { return false }
        return value.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F && $0 != UInt8(ascii: "/") && $0 != UInt8(ascii: "*") }
    }

    public enum Outcome: Equatable, Sendable {
        case matches
        case noMatch
        /// A `${claim}` the caller's token does not carry, or carries with an unsafe value.
        case unusableClaim(String)
    }

    public func match(_ subject: String, claims: [String: String]) -> Outcome {
        var resolved: [Piece] = []
        resolved.reserveCapacity(pieces.count)
        for piece in pieces {
            if case .claim(let name) = piece {
                guard let value = claims[name], Self.isSafeClaimValue(value) else { return .unusableClaim(name) }
                resolved.append(.literal(Array(value.utf8)))
            } else {
                resolved.append(piece)
            }
        }
        var subjectCopy = subject
        return subjectCopy.withUTF8 { Self.glob(resolved, $0) } ? .matches : .noMatch
    }

    /// Glob match with backtracking to the last star only (linear for the patterns here).
    static func glob(_ pieces: [Piece], _ subject: UnsafeBufferPointer<UInt8>) -> Bool {
        var p = 0
        var s = 0
        var starPiece = -1
        var starSubject = 0
        while true {
            if p < pieces.count {
                switch pieces[p] {
                case .star:
                    starPiece = p
                    starSubject = s
                    p += 1
                    continue
                case .literal(let bytes):
                    if s + bytes.count <= subject.count && bytes.withUnsafeBufferPointer({ lit in
                        memcmp(lit.baseAddress!, subject.baseAddress! + s, lit.count) == 0
                    }) {
                        // A literal after a star that ends the pattern must end the subject too; checked below.
                        p += 1
                        s += bytes.count
                        continue
                    }
                case .claim:
                    return false
                }
            } else if s == subject.count {
                return true
            } else if starPiece == pieces.count - 1 {
                return true
            }
            guard starPiece >= 0, starSubject < subject.count else { return false }
            starSubject += 1
            s = starSubject
            p = starPiece + 1
        }
    }
}

/// One rule of a caller: the operations it allows and the conditions each request must meet.
public struct PolicyRule: Sendable {
    public let number: Int
    public let name: String?
    public let operations: Set<String>
    public let bucket: KeyPattern
    public let key: KeyPattern
    public let backend: String?
    public let maxExpiresIn: Int64
    public let contentTypes: [String]?
    public let maxContentLength: Int64?

    public var label: String { name.map { "rule \(number) '\($0)'" } ?? "rule \(number)" }

    /// `type` (parameters after ';' ignored, any case) against `type/subtype`, `type/*` or `*/*`.
    static func contentType(_ type: String, matches pattern: String) -> Bool {
        var media = Array(type.utf8.prefix { $0 != UInt8(ascii: ";") })
        while let last = media.last, last == 0x20 || last == 0x09 { media.removeLast() }
        let expected = Array(pattern.utf8)
        func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }
        if expected == Array("*/*".utf8) { return true }
        if expected.count >= 2 && expected[expected.count - 2] == UInt8(ascii: "/") && expected.last == UInt8(ascii: "*") {
            let prefix = expected.dropLast()  // "image/"
            guard media.count > prefix.count else { return false }
            return zip(prefix, media).allSatisfy { lower($0) == lower($1) }
        }
        return media.count == expected.count && zip(expected, media).allSatisfy { lower($0) == lower($1) }
    }

    /// Whether every type starting with `prefix` is allowed (for POST forms that pin only a prefix).
    static func prefix(_ prefix: String, coveredBy pattern: String) -> Bool {
        let prefix = prefix.lowercased()
        let pattern = pattern.lowercased()
        if pattern == "*/*" { return true }
        if pattern.hasSuffix("/*") { return prefix.hasPrefix(pattern.dropLast()) }
        return false
    }
}

/// Who is calling, how they prove it, and what they may sign.
public struct Caller: Sendable {
    public enum Auth: Sendable {
        case apiKey(digest: [UInt8])
        case jwt(JWTAuth.Verifier)
    }

    public struct RateLimit: Sendable, Equatable {
        public let perSecond: Double
        public let burst: Double
    }

    public let name: String
    public let index: Int
    public let auth: Auth
    public let rateLimit: RateLimit?
    public let rules: [PolicyRule]
}

/// What a presign request asks for, as the policy engine sees it.
public struct PolicyRequest: Sendable {
    public var operation: String
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

    public init(
        operation: String, backend: String, bucket: String?, key: String?, expiresIn: Int64, signature: SignatureVersion,
        contentType: String? = nil, contentLength: Int64? = nil, contentTypePrefix: String? = nil,
        contentLengthRange: (min: Int64, max: Int64)? = nil
    ) {
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
            var segmentStart = 0
            var dotSegment = false
            for index in 0...bytes.count {
                if index == bytes.count || bytes[index] == UInt8(ascii: "/") {
                    if index - segmentStart == 2 && bytes[segmentStart] == 0x2E && bytes[segmentStart + 1] == 0x2E { dotSegment = true }
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
            if dotSegment { return Denial(reason: "invalid_key", message: "key contains a '..' segment") }
            return nil
        }
    }

    public static func evaluate(_ request: PolicyRequest, caller: Caller, claims: [String: String]) -> Result<PolicyRule, Denial> {
        if let key = request.key, let denial = checkKey(key) { return .failure(denial) }
        var firstFailure: Denial?
        for rule in caller.rules where rule.operations.contains(request.operation) {
            switch check(rule, request, claims: claims) {
            case nil: return .success(rule)
            case let denial?: if firstFailure == nil { firstFailure = denial }
            }
        }
        if let firstFailure { return .failure(firstFailure) }
        return .failure(Denial(reason: "no_rule", message: "no rule of caller '\(caller.name)' allows operation \(request.operation)"))
    }

    static func check(_ rule: PolicyRule, _ request: PolicyRequest, claims: [String: String]) -> Denial? {
        let label = rule.label
        if let backend = rule.backend, backend != request.backend {
            return Denial(reason: "backend", message: "\(label): backend '\(request.backend)' is not '\(backend)'")
        }
        let bucketName = request.bucket ?? ""
        if request.bucket == nil && rule.bucket.description != "*" {
            return Denial(reason: "bucket", message: "\(label): operation \(request.operation) names no bucket; the rule needs bucket '*'")
        }
        switch rule.bucket.match(bucketName, claims: claims) {
        case .matches: break
        case .noMatch: return Denial(reason: "bucket", message: "\(label): bucket '\(bucketName)' does not match '\(rule.bucket)'")
        case .unusableClaim(let name): return Denial(reason: "claim", message: "\(label): claim '\(name)' is missing or unusable in '\(rule.bucket)'")
        }
        if let key = request.key {
            switch rule.key.match(key, claims: claims) {
            case .matches: break
            case .noMatch: return Denial(reason: "key", message: "\(label): key '\(key)' does not match '\(rule.key)'")
            case .unusableClaim(let name): return Denial(reason: "claim", message: "\(label): claim '\(name)' is missing or unusable in '\(rule.key)'")
            }
        }
        let cap = request.signature == .v4 ? min(rule.maxExpiresIn, 604_800) : rule.maxExpiresIn
        if request.expiresIn > cap {
            return Denial(reason: "expires", message: "\(label): expires_in \(request.expiresIn) is over max_expires_in \(cap)")
        }
        let uploads = request.operation == "put" || request.operation == "post_object"
        if let types = rule.contentTypes, uploads {
            if let type = request.contentType {
                if !types.contains(where: { PolicyRule.contentType(type, matches: $0) }) {
                    return Denial(reason: "content_type", message: "\(label): content_type '\(type)' is not one of \(types.joined(separator: ", "))")
                }
            } else if let prefix = request.contentTypePrefix, request.operation == "post_object" {
                if !types.contains(where: { PolicyRule.prefix(prefix, coveredBy: $0) }) {
                    return Denial(reason: "content_type", message: "\(label): content_type_prefix '\(prefix)' allows types outside \(types.joined(separator: ", "))")
                }
            } else {
                return Denial(reason: "content_type", message: "\(label): content_type is required (allowed: \(types.joined(separator: ", ")))")
            }
        }
        if let max = rule.maxContentLength, uploads {
            if request.operation == "put" {
                guard request.signature == .v4 else {
                    return Denial(reason: "content_length", message: "\(label): max_content_length needs a SigV4 backend (SigV2 cannot sign Content-Length)")
                }
                guard let length = request.contentLength else {
                    return Denial(reason: "content_length", message: "\(label): content_length is required (at most \(max))")
                }
                if length > max {
                    return Denial(reason: "content_length", message: "\(label): content_length \(length) is over max_content_length \(max)")
                }
            } else if let range = request.contentLengthRange, range.max > max {
                return Denial(reason: "content_length", message: "\(label): content_length_range max \(range.max) is over max_content_length \(max)")
            }
        }
        return nil
    }
}

