import JSONKit

/// `POST /v1/presign/batch`'s body, `{"requests": [...]}`, decoded straight into intents.
extension Intent {
    public static let maxBatchItems = 100

    /// Each item an intent, its errors named `requests[i].field`. The whole document is checked first, then its
    /// shape, then the count, then the items in order (each item's every check before the next item's); items past
    /// `maxBatchItems` are only checked as JSON.
    public static func batch(_ body: [UInt8]) throws(APIError) -> [Intent] {
        var reader = JSONReader(body)
        var items: [JSONMembers] = []
        var shaped = false
        var count = 0
        do throws(JSONValue.ParseError) {
            if try reader.kind() == .object {
                var object = try reader.beginObject(depth: 0)
                while let name = try reader.nextMember(&object) {
                    guard ASCII.same(name, "requests"), object.count == 1, try reader.kind() == .array else {
                        shaped = false
                        try reader.skip(depth: object.depth)
                        continue
                    }
                    shaped = true
                    var array = try reader.beginArray(depth: object.depth)
                    while try reader.nextElement(&array) {
                        guard array.count <= maxBatchItems else {
                            try reader.skip(depth: array.depth)
                            continue
                        }
                        items.append(try JSONMembers(reading: &reader, depth: array.depth, path: "requests[\(array.count - 1)]"))
                    }
                    count = array.count
                }
            } else {
                try reader.skip()
            }
            try reader.finish()
        } catch {
            throw JSONMembers.notJSON(error)
        }
        guard shaped else { throw .invalid("requests", "the body must be {\"requests\": [...]}") }
        guard (1...maxBatchItems).contains(count) else {
            throw .invalid("requests", "must hold 1 to \(maxBatchItems) requests (got \(count))")
        }
        var intents: [Intent] = []
        intents.reserveCapacity(items.count)
        for fields in items { intents.append(try presign(fields)) }
        return intents
    }
}
