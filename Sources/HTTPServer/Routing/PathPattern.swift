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

    /// nil: no match; .some(nil): matched but a parameter is not valid percent-encoding.
    func bind(_ rawParts: [Substring]) -> [String: String]?? {
        let parts = rawParts.count == 1 && rawParts[0].isEmpty ? [] : rawParts
        var params: [String: String] = [:]
        var index = 0
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard index < parts.count, ASCII.same(parts[index], text) else { return nil }
                index += 1
            case .parameter(let name):
                guard index < parts.count, !parts[index].isEmpty else { return nil }
                guard let value = ASCII.percentDecode(parts[index]) else { return .some(nil) }
                params[name] = value
                index += 1
            case .remainder(let name):
                let rest = parts[min(index, parts.count)...].joined(separator: "/")
                guard !rest.isEmpty else { return nil }
                guard let value = ASCII.percentDecode(Substring(rest)) else { return .some(nil) }
                params[name] = value
                index = parts.count
            }
        }
        return index == parts.count ? .some(params) : nil
    }
}
