import JSONKit

/// One JSON object of a request body read straight from its bytes (`JSONReader`, no tree): each member's name,
/// where its value starts, and its text when the value is a string. Reading a body records its top-level object's
/// members while the reader checks the whole document; only then are fields decoded (a number, an object or an
/// array from its own bytes), so a syntax error anywhere comes before any field's error, and the decoders check
/// fields in their own order (the order sent, or a fixed one).
public struct JSONMembers {
    public let path: String
    let bytes: [UInt8]
    /// Member names, in document order; empty for a value that is no object.
    public private(set) var names: [String] = []
    /// Where each member's value starts (its first byte).
    public private(set) var offsets: [Int] = []
    /// Each member's value when it is a string, read in the same pass (every field but a few is one).
    public private(set) var strings: [String?] = []
    let isObject: Bool

    /// The error of a body that is not one JSON document.
    public static func notJSON(_ error: JSONValue.ParseError) -> APIError { .invalid("body", "not valid JSON (\(error.message))") }

    /// A whole request body: its top-level value recorded, the document checked to its end.
    public init(body: [UInt8]) throws(APIError) {
        var reader = JSONReader(body)
        do throws(JSONValue.ParseError) {
            self = try JSONMembers(reading: &reader, depth: 0, path: "")
            try reader.finish()
        } catch {
            throw Self.notJSON(error)
        }
    }

    /// The value at the reader's cursor, read past: an object's members recorded, anything else only checked.
    public init(reading reader: inout JSONReader, depth: Int, path: String) throws(JSONValue.ParseError) {
        self.path = path
        bytes = reader.bytes
        guard try reader.kind() == .object else {
            isObject = false
            try reader.skip(depth: depth)
            return
        }
        isObject = true
        var object = try reader.beginObject(depth: depth)
        while try reader.nextMember(&object) != nil {
            if offsets.isEmpty {
                offsets.reserveCapacity(8)
                strings.reserveCapacity(8)
            }
            offsets.append(reader.index)
            if try reader.kind() == .string {
                strings.append(try reader.string())
            } else {
                strings.append(nil)
                try reader.skip(depth: object.depth)
            }
        }
        names = object.names
    }

    /// Refuses a value that is not an object, then the first member (in document order) not in `isAllowed`.
    public func check(isAllowed: (String) -> Bool) throws(APIError) {
        guard isObject else { throw .invalid(path.isEmpty ? "body" : path, "must be a JSON object") }
        // Every field name is ASCII: a name that is not is unknown before any comparison (String's, on a name of
        // combining marks, costs the square of its length).
        for name in names where !(JSONFields.isASCII(name) && isAllowed(name)) { throw .invalid(self.name(name), "unknown field") }
    }

    public func check(allowed: Set<String>) throws(APIError) { try check(isAllowed: { allowed.contains($0) }) }

    public func name(_ field: String) -> String { path.isEmpty ? field : "\(path).\(field)" }

    /// A reader on the value at `offset`.
    public func reader(at offset: Int) -> JSONReader { JSONReader(bytes, at: offset) }

    public func offset(_ field: String) -> Int? { names.firstIndex { ASCII.same($0, field) }.map { offsets[$0] } }

    /// Member `index`'s string, of at most `max` characters.
    public func string(member index: Int, _ name: @autoclosure () -> String, max: Int) throws(APIError) -> String {
        guard let text = strings[index] else { throw .invalid(name(), "must be a string") }
        return try JSONFields.checkLength(text, name(), max: max)
    }

    /// Runs `body` over bytes the constructor has already checked (so it never meets a syntax error).
    public func read<T>(at offset: Int, _ body: (inout JSONReader) throws(JSONValue.ParseError) -> T) throws(APIError) -> T {
        var reader = self.reader(at: offset)
        do throws(JSONValue.ParseError) { return try body(&reader) } catch { throw Self.notJSON(error) }
    }

    /// The string at `offset` (a value's first byte), of at most `max` characters (see `JSONFields.string`).
    public func string(at offset: Int, _ name: @autoclosure () -> String, max: Int) throws(APIError) -> String {
        guard bytes[offset] == UInt8(ascii: "\"") else { throw .invalid(name(), "must be a string") }
        var reader = self.reader(at: offset)
        let text: String
        do throws(JSONValue.ParseError) { text = try reader.string() } catch { throw Self.notJSON(error) }
        return try JSONFields.checkLength(text, name(), max: max)
    }

    /// The integer at `offset` (exactly an Int64: 1.0 and 1e3 are integers, 1.5 is not).
    public func integer(at offset: Int, _ name: @autoclosure () -> String) throws(APIError) -> Int64 {
        let first = bytes[offset]
        guard first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39) else { throw .invalid(name(), "must be an integer") }
        var reader = self.reader(at: offset)
        let number: JSONValue
        do throws(JSONValue.ParseError) { number = try reader.number() } catch { throw Self.notJSON(error) }
        guard case .integer(let value) = number else { throw .invalid(name(), "must be an integer") }
        return value
    }

    public func string(_ field: String, max: Int, required: Bool = false) throws(APIError) -> String? {
        guard let index = names.firstIndex(of: field) else {
            if required { throw .invalid(name(field), "is required") }
            return nil
        }
        return try string(member: index, name(field), max: max)
    }

    public func integer(_ field: String, in range: ClosedRange<Int64>) throws(APIError) -> Int64? {
        guard let offset = offset(field) else { return nil }
        let number = try integer(at: offset, name(field))
        guard range.contains(number) else { throw .invalid(name(field), "must be \(range.lowerBound)...\(range.upperBound)") }
        return number
    }
}
