/// A parsed JSON document, for the few callers that want a tree (config documents, JWT claims, tests); request
/// bodies are decoded straight from their bytes with `JSONReader`, which also builds this tree: strict RFC 8259,
/// duplicate keys, lone surrogates, invalid UTF-8 and deep nesting refused, integers exact.
public indirect enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    /// An integer that fits Int64 exactly.
    case integer(Int64)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([JSONValue])
    /// Members in document order (keys are unique).
    case object([(String, JSONValue)])

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: return false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for (name, value) in members where ASCII.same(name, key) { return value }
        return nil
    }

    public struct ParseError: Error, Equatable, Sendable {
        public let message: String

        public init(message: String) { self.message = message }
    }

    public static let maxDepth = 16

    /// `bytes` as one JSON document (read by `JSONReader`, the one JSON grammar).
    public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
        var reader = JSONReader(bytes)
        let value = try reader.value()
        try reader.finish()
        return value
    }
}
