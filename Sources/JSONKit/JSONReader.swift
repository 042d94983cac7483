/// A cursor over a JSON document's bytes: the one JSON grammar in presignd. `JSONValue.parse` builds a tree with
/// it; the request decoders (PresignCore's `JSONMembers`) walk a body with it and decode each field straight from
/// its bytes. Strict RFC 8259: duplicate member names, lone surrogates, invalid UTF-8, control characters,
/// leading zeros and nesting deeper than `JSONValue.maxDepth` are refused; integers stay exact.
///
/// Errors come in document order, the first one met: reading the same bytes by any path (a tree, a skip, a
/// member walk) gives the same error text.
public struct JSONReader {
    public typealias ParseError = JSONValue.ParseError

    /// What a value is, from its first byte.
    public enum Kind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// Members up to which a linear scan finds duplicates (cheaper than hashing for request-sized objects).
    static let setThreshold = 16

    public let bytes: [UInt8]
    /// The next byte to read.
    public internal(set) var index: Int

    public init(_ bytes: [UInt8], at index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    /// Reads nothing but space; then the document must end.
    public mutating func finish() throws(ParseError) {
        skipSpace()
        guard index == bytes.count else { throw ParseError(message: "unexpected data after the JSON value") }
    }

    mutating func skipSpace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    func fail(_ message: String) -> ParseError { ParseError(message: message) }

    /// The kind of the value at the cursor (after any space), which is not consumed.
    public mutating func kind() throws(ParseError) -> Kind {
        skipSpace()
        guard index < bytes.count else { throw fail("unexpected end of JSON") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw fail("unexpected character in JSON")
        }
    }

    /// The value at the cursor as a tree; `depth` is the nesting of its container (0 for a document).
    public mutating func value(depth: Int = 0) throws(ParseError) -> JSONValue {
        switch try kind() {
        case .object:
            // The tree's own member list serves the duplicate check (no list of names beside it).
            guard depth + 1 <= JSONValue.maxDepth else { throw fail("JSON nested too deeply") }
            index += 1
            var members: [(String, JSONValue)] = []
            var set: Set<ExactText> = []
            while try !closes(UInt8(ascii: "}"), first: members.isEmpty, "expected ',' or '}'") {
                let key = try memberName()
                if Self.repeats(key, count: members.count, in: &set, scan: { name in members.contains { ASCII.same($0.0, name) } }, names: { members.map(\.0) }) {
                    throw fail("duplicate member '\(key)'")
                }
                try colon()
                members.append((key, try value(depth: depth + 1)))
            }
            return .object(members)
        case .array:
            var array = try beginArray(depth: depth)
            var items: [JSONValue] = []
            while try nextElement(&array) { items.append(try value(depth: array.depth)) }
            return .array(items)
        case .string: return .string(try string())
        case .bool: return .bool(try bool())
        case .null: try literal("null"); return .null
        case .number: return try number()
        }
    }

    /// Reads past the value at the cursor with every check `value` makes, building nothing but member names.
    public mutating func skip(depth: Int = 0) throws(ParseError) {
        switch try kind() {
        case .object:
            var object = try beginObject(depth: depth)
            while try nextMember(&object) != nil { try skip(depth: object.depth) }
        case .array:
            var array = try beginArray(depth: depth)
            while try nextElement(&array) { try skip(depth: array.depth) }
        case .string: try skipString()
        case .bool: _ = try bool()
        case .null: try literal("null")
        case .number: try skipNumber()
        }
    }

    // MARK: Objects and arrays, member by member

    /// An object being read: its depth and the names seen (duplicates are refused).
    public struct ObjectScope {
        /// The depth of the object's members' container, to pass to `value`/`skip` for each member.
        public let depth: Int
        /// The names read so far, in document order.
        public internal(set) var names: [String] = []
        var nameSet: Set<ExactText> = []
        public var count: Int { names.count }
    }

    public struct ArrayScope {
        public let depth: Int
        public internal(set) var count = 0
    }

    /// Consumes `{` of an object nested in a container of `depth`.
    public mutating func beginObject(depth: Int) throws(ParseError) -> ObjectScope {
        guard depth + 1 <= JSONValue.maxDepth else { throw fail("JSON nested too deeply") }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { throw fail("expected an object") }
        index += 1
        return ObjectScope(depth: depth + 1)
    }

    /// The next member's name, with the cursor on its value; nil past the closing `}`.
    public mutating func nextMember(_ scope: inout ObjectScope) throws(ParseError) -> String? {
        if try closes(UInt8(ascii: "}"), first: scope.names.isEmpty, "expected ',' or '}'") { return nil }
        let key = try memberName()
        // No copy of `scope.names` is held across the append below: in a build without optimization a live copy
        // made every append copy the whole list (100,000 members: minutes).
        let repeated: Bool
        if scope.names.count < Self.setThreshold {
            repeated = scope.names.contains { ASCII.same($0, key) }
        } else {
            if scope.nameSet.isEmpty { scope.nameSet = Set(scope.names.map(ExactText.init)) }
            repeated = !scope.nameSet.insert(ExactText(key)).inserted
        }
        if repeated { throw fail("duplicate member '\(key)'") }
        if scope.names.isEmpty { scope.names.reserveCapacity(8) }
        scope.names.append(key)
        try colon()
        return key
    }

    /// Whether `key` repeats a name read before it. Small objects (every request body) scan their few names; past
    /// `setThreshold` the names go into a set, so a 1 MiB body of 100,000 members costs 100,000 lookups rather
    /// than 5·10⁹ comparisons. Both compare bytes (`ASCII.same`, `ExactText`), never String equality: canonical
    /// equivalence sorts each run of combining marks first, at the square of its length (a 32 KiB name of marks
    /// held a worker for 5 s), and `café` and `cafe\u0301` are two names, as they are to S3 and to every client.
    @inline(__always)
    static func repeats(_ key: String, count: Int, in set: inout Set<ExactText>, scan: (String) -> Bool, names: () -> [String]) -> Bool {
        if count < setThreshold { return scan(key) }
        if set.isEmpty { set = Set(names().map(ExactText.init)) }
        return !set.insert(ExactText(key)).inserted
    }

    /// Before an object's or array's next item: true past its `close`; false past the `,` (or at the first item),
    /// with the cursor on the item.
    @inline(__always)
    mutating func closes(_ close: UInt8, first: Bool, _ expected: StaticString) throws(ParseError) -> Bool {
        skipSpace()
        if first {
            guard index < bytes.count, bytes[index] == close else { return false }
            index += 1
            return true
        }
        guard index < bytes.count else { throw fail("unexpected end of JSON") }
        if bytes[index] == close {
            index += 1
            return true
        }
        guard bytes[index] == UInt8(ascii: ",") else { throw fail("\(expected)") }
        index += 1
        skipSpace()
        return false
    }

    /// A member's name, the cursor after it.
    @inline(__always)
    mutating func memberName() throws(ParseError) -> String {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a member name") }
        return try string()
    }

    /// The `:` after a member's name, the cursor on its value.
    @inline(__always)
    mutating func colon() throws(ParseError) {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
        index += 1
        skipSpace()
    }

    /// Consumes `[` of an array nested in a container of `depth`.
    public mutating func beginArray(depth: Int) throws(ParseError) -> ArrayScope {
        guard depth + 1 <= JSONValue.maxDepth else { throw fail("JSON nested too deeply") }
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { throw fail("expected an array") }
        index += 1
        return ArrayScope(depth: depth + 1)
    }

    /// True with the cursor on the next item; false past the closing `]`.
    public mutating func nextElement(_ scope: inout ArrayScope) throws(ParseError) -> Bool {
        if try closes(UInt8(ascii: "]"), first: scope.count == 0, "expected ',' or ']'") { return false }
        scope.count += 1
        return true
    }
}
