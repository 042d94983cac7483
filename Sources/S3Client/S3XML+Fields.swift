/// The checks on fields read from S3's documents: numbers, flags and tokens, parsed strictly.
extension S3XML {
    /// A decimal number of 1-19 ASCII digits within `range`: no sign, space, or other notation.
    static func number(_ text: String?, _ field: String, in range: ClosedRange<Int64>) throws(ParseError) -> Int64 {
        guard let text else { throw ParseError(message: "<\(field)> is missing") }
        let bytes = Array(text.utf8)
        guard (1...19).contains(bytes.count), bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
            let value = Int64(text), range.contains(value)
        else { throw ParseError(message: "<\(field)> '\(text.prefix(40))' is not a number in \(range.lowerBound)...\(range.upperBound)") }
        return value
    }

    /// `true` or `false`; absent is false.
    static func flag(_ text: String?, _ field: String) throws(ParseError) -> Bool {
        switch text {
        case nil, "false": return false
        case "true": return true
        case let other?: throw ParseError(message: "<\(field)> '\(other.prefix(40))' is not true or false")
        }
    }

    /// A required token (upload id, ETag): 1-1024 bytes, no control characters.
    static func token(_ text: String?, _ field: String) throws(ParseError) -> String {
        guard let text, isToken(text) else {
            throw ParseError(message: "<\(field)> is missing, empty, over \(MultipartLimits.maxTokenBytes) bytes or has control characters")
        }
        return text
    }

    static func isToken(_ text: String) -> Bool {
        (1...MultipartLimits.maxTokenBytes).contains(text.utf8.count) && !text.utf8.contains { $0 < 0x20 || $0 == 0x7F }
    }
}
