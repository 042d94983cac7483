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
    /// Whether any piece is a `${claim}`: without one, matching uses `pieces` as they are (no copy per request).
    let hasClaims: Bool
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
        hasClaims = pieces.contains { if case .claim = $0 { true } else { false } }
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
        guard hasClaims else { return .success(pieces) }
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
