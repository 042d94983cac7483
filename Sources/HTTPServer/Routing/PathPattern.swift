import JSONKit

/// An endpoint's path: `/literal/{param}/{rest...}`. A parameter is typed by its kind: `{name}` takes one non-empty
/// segment, `{name...}` the remainder of the path including slashes (object keys) and must come last. Bound values
/// are percent-decoded; a value that is not valid percent-encoding is a 400, never a guess.
public struct PathPattern: Sendable, Equatable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Segment: Sendable, Equatable, Hashable {
        case literal(String)
        case parameter(String)
        case remainder(String)
    }

    /// The pattern as written (`/v1/links/{id}`): what `presignd routes` prints and openapi.yaml names.
    public let text: String
    public let segments: [Segment]

    public init(_ text: String) {
        let segments: [Segment] = text.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part.hasPrefix("{") && part.hasSuffix("...}") { return .remainder(String(part.dropFirst().dropLast(4))) }
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
        precondition(
            segments.dropLast().allSatisfy { if case .remainder = $0 { false } else { true } },
            "a {name...} segment must be last in \(text)")
        self.text = text
        self.segments = segments
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { text }

    /// The first segment when it is a literal (the router's index).
    var firstLiteral: String? {
        if case .literal(let first)? = segments.first { return first }
        return nil
    }

    /// nil: no match; .some(nil): matched but a parameter is not valid percent-encoding. `rawParts` are the path's
    /// segments after its first `/` (tests; the router walks the path itself with `bind(path:)`).
    func bind(_ rawParts: [Substring]) -> [String: String]?? {
        bind(path: Substring("/" + rawParts.joined(separator: "/")))
    }

    /// Matches the segments of `path` after its first `/`, walked in place: splitting the path into an array cost
    /// 3 allocations and ~1,500 instructions a request.
    func bind(path: Substring) -> [String: String]?? {
        var parts = PathSegments(path)
        var params: [String: String] = [:]
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard let part = parts.next(), ASCII.same(part, text) else { return nil }
            case .parameter(let name):
                guard let part = parts.next(), !part.isEmpty else { return nil }
                guard let value = ASCII.percentDecode(part) else { return .some(nil) }
                params[name] = value
            case .remainder(let name):
                let rest = parts.takeRest()
                guard !rest.isEmpty else { return nil }
                guard let value = ASCII.percentDecode(rest) else { return .some(nil) }
                params[name] = value
            }
        }
        return parts.next() == nil ? .some(params) : nil
    }
}

/// The `/`-separated segments of a path after its first `/`, empty ones included, as slices of it; a path that is
/// `/` alone (or has no `/`) has none.
struct PathSegments {
    /// What is left to walk; nil once the last segment has been taken.
    private var rest: Substring?

    init(_ path: Substring) {
        guard let slash = path.utf8.firstIndex(of: UInt8(ascii: "/")) else { return }
        let after = path[path.utf8.index(after: slash)...]
        rest = after.isEmpty ? nil : after
    }

    mutating func next() -> Substring? {
        guard let text = rest else { return nil }
        guard let slash = Self.firstSlash(text) else {
            rest = nil
            return text
        }
        rest = text[text.utf8.index(after: slash)...]
        return text[..<slash]
    }

    /// Searched in the contiguous bytes: the generic `UTF8View.firstIndex` cost ~25 instructions a byte, ~45,000
    /// for an upload's parts path.
    private static func firstSlash(_ text: Substring) -> Substring.Index? {
        let offset = text.utf8.withContiguousStorageIfAvailable { $0.firstIndex(of: UInt8(ascii: "/")) }
        guard let offset else { return text.utf8.firstIndex(of: UInt8(ascii: "/")) }
        return offset.map { text.utf8.index(text.utf8.startIndex, offsetBy: $0) }
    }

    /// All the segments left, with their slashes.
    mutating func takeRest() -> Substring {
        defer { rest = nil }
        return rest ?? ""
    }
}
