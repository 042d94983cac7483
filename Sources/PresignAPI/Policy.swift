import JSONKit
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

    /// The pieces with every claim replaced by its value, or the name of the first claim that cannot stand in.
    func resolved(claims: [String: String]) -> Result<[Piece], ClaimError> {
        var resolved: [Piece] = []
        resolved.reserveCapacity(pieces.count)
        for piece in pieces {
            if case .claim(let name) = piece {
                guard let value = claims[name], Self.isSafeClaimValue(value) else { return .failure(ClaimError(name: name)) }
                resolved.append(.literal(Array(value.utf8)))
            } else {
                resolved.append(piece)
            }
        }
        return .success(resolved)
    }

    struct ClaimError: Error { let name: String }

    public func match(_ subject: String, claims: [String: String]) -> Outcome {
        let resolved: [Piece]
        switch self.resolved(claims: claims) {
        case .success(let pieces): resolved = pieces
        case .failure(let error): return .unusableClaim(error.name)
        }
        var subjectCopy = subject
        return subjectCopy.withUTF8 { Self.glob(resolved, $0) } ? .matches : .noMatch
    }

    /// `*` (or `**`): the pattern allows every key, so it may stand on operations that name no key.
    public var matchesEverything: Bool { pieces == [.star] }

    /// Whether every key that starts with `prefix` matches: what a POST form signed with `starts-with` on `prefix`
    /// needs. Decided only for the shape `<literal>*` (claims resolved, one trailing star, nothing after it), where
    /// the answer is exactly "prefix starts with the literal"; any other shape is `.noMatch`, erring narrow.
    public func coversEveryKey(startingWith prefix: String, claims: [String: String]) -> Outcome {
        let resolved: [Piece]
        switch self.resolved(claims: claims) {
        case .success(let pieces): resolved = pieces
        case .failure(let error): return .unusableClaim(error.name)
        }
        guard resolved.last == .star else { return .noMatch }
        var literal: [UInt8] = []
        for piece in resolved.dropLast() {
            guard case .literal(let bytes) = piece else { return .noMatch }
            literal += bytes
        }
        return prefix.utf8.starts(with: literal) ? .matches : .noMatch
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

    /// `type`, which must be exactly one media type (`MediaType`), against `type/subtype`, `type/*` or `*/*`;
    /// see `MediaType.isAdmitted(by:)` for why `type/*` leaves script-capable types out.
    static func contentType(_ type: String, matches pattern: String) -> Bool {
        MediaType(type)?.isAdmitted(by: pattern) ?? false
    }

    /// Whether every type starting with `prefix` is allowed (for POST forms that pin only a prefix). S3's
    /// `starts-with` admits any text after the prefix: `image/` lets through `image/svg+xml` and
    /// `image/png, text/html`. Only `*/*` allows all of that; `type/*` and exact types never cover a prefix.
    static func prefix(_ prefix: String, coveredBy pattern: String) -> Bool {
        pattern == "*/*"
    }

    /// The note added to a content-type denial when a `type/*` of the rule would have matched but for the
    /// script-capable rule, so the operator sees why and what to list.
    func scriptNote(_ media: MediaType?) -> String {
        guard let media, media.isScriptCapable,
            contentTypes?.contains(where: { $0.lowercased() == media.type + "/*" }) == true
        else { return "" }
        return " (a type/* wildcard never admits a script-capable type; list it exactly)"
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
    /// get/head only: the `response-content-type` the URL makes S3 answer with.
    public var responseContentType: String?

    public init(
        operation: String, backend: String, bucket: String?, key: String?, expiresIn: Int64, signature: SignatureVersion,
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

    /// For `post_object`: the text before the first `${filename}`, which S3 replaces with the uploaded file's
    /// name. Found byte for byte, as S3 finds it (the form is signed with starts-with on this text).
    static func filenamePrefix(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        let marker = Array("${filename}".utf8)
        guard bytes.count >= marker.count else { return nil }
        for start in 0...(bytes.count - marker.count) where bytes[start..<(start + marker.count)].elementsEqual(marker) {
            return String(decoding: bytes[..<start], as: UTF8.self)
        }
        return nil
    }

    /// `response.content_type` makes S3 answer with that type whatever the object is, so it is held to the
    /// rule's `content_types` when the rule has them; when it has none, it may be anything but a script-capable
    /// type (a `.png` answered as `text/html` runs script on the bucket's origin).
    static func checkResponseType(_ type: String, _ rule: PolicyRule) -> Denial? {
        let label = rule.label
        let media = MediaType(type)
        if let types = rule.contentTypes {
            guard types.contains(where: { PolicyRule.contentType(type, matches: $0) }) else {
                return Denial(reason: "content_type", message: "\(label): response.content_type '\(type)' is not one of \(types.joined(separator: ", "))\(rule.scriptNote(media))")
            }
            return nil
        }
        guard let media else {
            return Denial(reason: "content_type", message: "\(label): response.content_type '\(type)' is not one media type")
        }
        if media.isScriptCapable {
            return Denial(reason: "content_type", message: "\(label): response.content_type '\(type)' can run script; list it in the rule's content_types to allow it")
        }
        return nil
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
            let outcome: KeyPattern.Outcome
            let filenamePrefix = request.operation == "post_object" ? Self.filenamePrefix(key) : nil
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
                    return Denial(reason: "key", message: "\(label): key '\(key)' lets the uploader choose any key that starts with '\(prefix)', and '\(rule.key)' does not allow all of them; give the exact key")
                }
                return Denial(reason: "key", message: "\(label): key '\(key)' does not match '\(rule.key)'")
            case .unusableClaim(let name): return Denial(reason: "claim", message: "\(label): claim '\(name)' is missing or unusable in '\(rule.key)'")
            }
        } else if !rule.key.matchesEverything {
            // Config loading refuses such rules; this keeps the engine safe on its own.
            return Denial(reason: "key", message: "\(label): operation \(request.operation) is not about one object, so key '\(rule.key)' cannot limit it; the rule needs key '*'")
        }
        let cap = request.signature == .v4 ? min(rule.maxExpiresIn, 604_800) : rule.maxExpiresIn
        if request.expiresIn > cap {
            return Denial(reason: "expires", message: "\(label): expires_in \(request.expiresIn) is over max_expires_in \(cap)")
        }
        let uploads = request.operation == "put" || request.operation == "post_object"
        if let types = rule.contentTypes, uploads {
            if let type = request.contentType {
                if !types.contains(where: { PolicyRule.contentType(type, matches: $0) }) {
                    return Denial(reason: "content_type", message: "\(label): content_type '\(type)' is not one of \(types.joined(separator: ", "))\(rule.scriptNote(MediaType(type)))")
                }
            } else if let prefix = request.contentTypePrefix, request.operation == "post_object" {
                if !types.contains(where: { PolicyRule.prefix(prefix, coveredBy: $0) }) {
                    return Denial(reason: "content_type", message: "\(label): content_type_prefix '\(prefix)' also admits script-capable types and lists of types; only */* covers a prefix, so give an exact content_type (allowed: \(types.joined(separator: ", ")))")
                }
            } else {
                return Denial(reason: "content_type", message: "\(label): content_type is required (allowed: \(types.joined(separator: ", ")))")
            }
        }
        if let type = request.responseContentType, let denial = Self.checkResponseType(type, rule) { return denial }
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


/// One media type exactly as RFC 9110 §8.3.1 writes it: `type "/" subtype *( OWS ";" OWS parameter )`, where type,
/// subtype and parameter names are tokens and a parameter value is a token or a quoted-string. Anything else
/// (a comma-separated list, `image/png;`, a trailing space, a control character, a tab, non-ASCII, more than 256
/// bytes) is not a media type: S3 stores and serves a Content-Type as given, and a browser reading
/// `image/png, text/html` may pick the second type.
public struct MediaType: Sendable, Equatable {
    /// Lower case.
    public let type: String
    /// Lower case.
    public let subtype: String

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 256 else { return nil }
        var index = 0
        func token() -> Bool {
            let start = index
            while index < bytes.count, ASCII.isTokenByte(bytes[index]) { index += 1 }
            return index > start
        }
        func spaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }
        guard token() else { return nil }
        let typeEnd = index
        guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
        index += 1
        let subtypeStart = index
        guard token() else { return nil }
        let subtypeEnd = index
        while index < bytes.count {
            spaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return nil }
            index += 1
            spaces()
            guard token(), index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                // quoted-string: qdtext (SP, visible ASCII but '"' and '\') or a quoted-pair ('\' then SP or visible).
                index += 1
                var closed = false
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") {
                        index += 1
                        closed = true
                        break
                    }
                    if b == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.count, bytes[index] >= 0x20, bytes[index] < 0x7F else { return nil }
                    } else if b < 0x20 || b >= 0x7F {
                        return nil
                    }
                    index += 1
                }
                guard closed else { return nil }
            } else {
                guard token() else { return nil }
            }
        }
        type = String(decoding: bytes[..<typeEnd], as: UTF8.self).lowercased()
        subtype = String(decoding: bytes[subtypeStart..<subtypeEnd], as: UTF8.self).lowercased()
    }

    /// Types a browser may run script from when the object is served from the bucket's origin: any subtype whose
    /// name contains `html`, `xml`, `xsl` or `script` (text/html, application/xhtml+xml, image/svg+xml, text/xml,
    /// application/xml, every `+xml`, text/javascript, application/ecmascript, text/vbscript, ...), and
    /// application/x-shockwave-flash. Matching on name parts errs wide on purpose: a harmless type caught here
    /// only needs listing exactly.
    public var isScriptCapable: Bool {
        ["html", "xml", "xsl", "script"].contains { subtype.contains($0) }
            || (type == "application" && subtype == "x-shockwave-flash")
            // Types a browser sniffs (WHATWG MIME Sniffing): the body decides, and an HTML body renders as HTML.
            || Self.sniffedEssences.contains("\(type)/\(subtype)") || type.contains("*") || subtype.contains("*")
            // multipart/x-mixed-replace renders its parts, each with a type of its own; no multipart type is safe
            // to serve inline.
            || type == "multipart"
    }

    static let sniffedEssences: Set<String> = ["unknown/unknown", "application/unknown", "application/x-unknown-content-type"]

    /// A wildcard (`*/*`, `image/*`) names no type: it may stand in a rule, never in what is signed.
    public var isWildcard: Bool { type.contains("*") || subtype.contains("*") }

    /// Whether a rule's `content_types` entry admits this type. `*/*` admits every type. `type/subtype` admits
    /// exactly that type (any case, any parameters). `type/*` admits the subtypes of `type` that are not
    /// script-capable: `image/*` means pictures, and image/svg+xml is a document that runs script, so a rule
    /// must list such a type exactly to allow it.
    public func isAdmitted(by pattern: String) -> Bool {
        let pattern = pattern.lowercased()
        if pattern == "*/*" { return true }
        if pattern.hasSuffix("/*") { return pattern.utf8.dropLast(2).elementsEqual(type.utf8) && !isScriptCapable }
        return pattern == type + "/" + subtype
    }
}
