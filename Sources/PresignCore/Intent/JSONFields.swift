import JSONKit

/// The members of one JSON object of a request, read with exact types: unknown names refused first, each field
/// named in errors with its path (`requests[3].key`, `parts[0].etag`).
public struct JSONFields {
    public let members: [(String, JSONValue)]
    public let path: String

    /// Refuses a value that is not an object, and any member not in `allowed`.
    public init(_ value: JSONValue, path: String, allowed: Set<String>) throws(APIError) {
        try self.init(value, path: path, isAllowed: { allowed.contains($0) })
    }

    /// The same with the names given as a predicate (a `switch` over literals, where hashing each name into a set
    /// would cost more than comparing it).
    public init(_ value: JSONValue, path: String, isAllowed: (String) -> Bool) throws(APIError) {
        guard case .object(let members) = value else { throw .invalid(path.isEmpty ? "body" : path, "must be a JSON object") }
        self.members = members
        self.path = path
        for (name, _) in members where !(Self.isASCII(name) && isAllowed(name)) { throw .invalid(self.name(name), "unknown field") }
    }

    public func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    public func value(_ field: String) -> JSONValue? { members.first { ASCII.same($0.0, field) }?.1 }

    /// Whether a member name is ASCII, as every field name is: checked before a name meets a `switch` over field
    /// names or a `Set` of them, where String comparison and hashing of a name of combining marks cost its square.
    public static func isASCII(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            var any: UInt8 = 0
            for byte in bytes { any |= byte }
            return any < 0x80
        }
    }

    /// A string of at most `max` characters, counted in code points as JSON Schema's maxLength does.
    public static func string(_ value: JSONValue, _ name: @autoclosure () -> String, max: Int) throws(APIError) -> String {
        guard case .string(let text) = value else { throw .invalid(name(), "must be a string") }
        return try checkLength(text, name(), max: max)
    }

    /// `text` if it has at most `max` characters.
    public static func checkLength(_ text: String, _ name: @autoclosure () -> String, max: Int) throws(APIError) -> String {
        guard text.utf8.count <= max || text.unicodeScalars.count <= max else { throw .invalid(name(), "longer than \(max) characters") }
        return text
    }

    public static func integer(_ value: JSONValue, _ name: @autoclosure () -> String) throws(APIError) -> Int64 {
        guard case .integer(let number) = value else { throw .invalid(name(), "must be an integer") }
        return number
    }

    public func string(_ field: String, max: Int, required: Bool = false) throws(APIError) -> String? {
        guard let value = value(field) else {
            if required { throw .invalid(name(field), "is required") }
            return nil
        }
        return try Self.string(value, name(field), max: max)
    }

    public func integer(_ field: String, in range: ClosedRange<Int64>, required: Bool = false) throws(APIError) -> Int64? {
        guard let value = value(field) else {
            if required { throw .invalid(name(field), "is required") }
            return nil
        }
        let number = try Self.integer(value, name(field))
        guard range.contains(number) else { throw .invalid(name(field), "must be \(range.lowerBound)...\(range.upperBound)") }
        return number
    }

    /// An array of 1 to `maxCount` items.
    public func list(_ field: String, maxCount: Int, noun: String) throws(APIError) -> [JSONValue] {
        guard let value = value(field) else { throw .invalid(name(field), "is required") }
        guard case .array(let items) = value else { throw .invalid(name(field), "must be an array") }
        guard (1...maxCount).contains(items.count) else {
            throw .invalid(name(field), "must hold 1 to \(maxCount) \(noun) (got \(items.count))")
        }
        return items
    }
}
