import JSONKit
import S3Signing

/// The `response` overrides of a presign or link body, and a POST form's `content_length_range`: read from the
/// body's bytes member by member, each bounded by what it can hold.
extension Intent {
    /// Members a `response` object may have: one per override S3 takes (`responseFields`). Names are unique, so a
    /// longer object holds an unknown name or a repeat; it is refused at its 7th member, never walked further.
    public static let maxResponseOverrides = 6

    /// Each `responseFields` entry's value, in that order (nil: not given), the members checked in document order.
    static func readResponse(_ fields: JSONMembers, at offset: Int) throws(APIError) -> [String?] {
        guard fields.bytes[offset] == UInt8(ascii: "{") else { throw .invalid(fields.name("response"), "must be an object") }
        let members: [(name: String, offset: Int)] = try fields.read(at: offset) { reader throws(JSONValue.ParseError) in
            var object = try reader.beginObject(depth: 0)
            var members: [(name: String, offset: Int)] = []
            // One more than the bound: enough to refuse it.
            while members.count <= maxResponseOverrides, let name = try reader.nextMember(&object) {
                members.append((name, reader.index))
                try reader.skip(depth: object.depth)
            }
            return members
        }
        var values = [String?](repeating: nil, count: responseFields.count)
        for (count, (field, at)) in members.enumerated() {
            guard count < maxResponseOverrides else {
                throw .invalid(fields.name("response"), "must hold at most \(maxResponseOverrides) overrides, one per field")
            }
            guard let slot = responseFields.firstIndex(where: { ASCII.same($0.json, field) }) else {
                throw .invalid(fields.name("response.\(field)"), "unknown field")
            }
            values[slot] = try fields.string(at: at, fields.name("response.\(field)"), max: 1024)
        }
        return values
    }

    /// `[min, max]`: two integers of at least 0 (min <= max is checked with the capability). A longer array is
    /// refused at its third item.
    static func readRange(_ fields: JSONMembers, at offset: Int) throws(APIError) -> (Int64, Int64) {
        let pair: [JSONValue] = try fields.read(at: offset) { reader throws(JSONValue.ParseError) in
            guard fields.bytes[offset] == UInt8(ascii: "[") else { return [] }
            var array = try reader.beginArray(depth: 0)
            var items: [JSONValue] = []
            while array.count < 3, try reader.nextElement(&array) {
                if try reader.kind() == .number {
                    items.append(try reader.number())
                } else {
                    items.append(.null)
                    try reader.skip(depth: array.depth)
                }
            }
            return items
        }
        guard pair.count == 2, case .integer(let low) = pair[0], case .integer(let high) = pair[1], low >= 0, high >= 0 else {
            throw .invalid(fields.name("content_length_range"), "must be [min, max], integers of at least 0")
        }
        return (low, high)
    }

    /// Response overrides: only for a GET, HEAD or share link, each a header value S3 will echo.
    mutating func checkResponse(_ fields: JSONMembers, _ overrides: [String?]?) throws(APIError) {
        guard let overrides else { return }
        func name(_ field: String) -> String { fields.name(field) }
        guard capability == .sign(.get) || capability == .sign(.head) || capability == .shareLink else {
            throw .invalid(name("response"), "response overrides are only for get and head")
        }
        for (field, value) in zip(Self.responseFields, overrides) {
            guard let value else { continue }
            guard Self.isHeaderValue(value) else {
                throw .invalid(name("response.\(field.json)"), "must be a header value: visible ASCII, spaces and tabs, not starting or ending with a space or tab")
            }
            if field.json == "content_type" { try Self.checkMediaType(value, field: name("response.content_type")) }
            response.append(ResponseOverride(field: field.json, query: field.query, value: value))
        }
    }
}
