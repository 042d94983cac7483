import JSONKit

/// The header fields the server and the handlers look up by name. The decoder finds them in its one pass over the
/// header block (`HTTPRequestHead.fields`), so `head.header(.authorization)` is an index lookup; any other name is
/// still found by `head.header("Range-Unit")`, a case-insensitive scan.
public enum HTTPField: Int, CaseIterable, Sendable {
    case host, contentType, contentLength, authorization, origin, xRequestId
    case accessControlRequestMethod, accessControlRequestHeaders
    case cookie, connection, expect, ifMatch, range, transferEncoding

    /// The canonical spelling (error messages; lookups are case-insensitive).
    public var name: String {
        switch self {
        case .host: "Host"
        case .contentType: "Content-Type"
        case .contentLength: "Content-Length"
        case .authorization: "Authorization"
        case .origin: "Origin"
        case .xRequestId: "X-Request-Id"
        case .accessControlRequestMethod: "Access-Control-Request-Method"
        case .accessControlRequestHeaders: "Access-Control-Request-Headers"
        case .cookie: "Cookie"
        case .connection: "Connection"
        case .expect: "Expect"
        case .ifMatch: "If-Match"
        case .range: "Range"
        case .transferEncoding: "Transfer-Encoding"
        }
    }

    /// Fields a request may carry at most once (RFC 9110): two are ambiguous (which credentials, which host, which
    /// media type?), and the decoder refuses them instead of letting the first or the last win.
    public var isSingleton: Bool {
        switch self {
        case .host, .authorization, .contentType, .origin, .xRequestId: true
        default: false
        }
    }

    /// The field a header name is, case-insensitively; nil for any other name. Compared only with the fields of its
    /// length (most names match none): this runs on every header of every request.
    public init?(name: some StringProtocol) {
        let found: HTTPField?
        switch name.utf8.count {
        case 4: found = .host
        case 5: found = .range
        case 6:
            found = name.caseInsensitiveEquals("origin") ? .origin
                : name.caseInsensitiveEquals("cookie") ? .cookie : .expect
        case 8: found = .ifMatch
        case 10: found = .connection
        case 12: found = name.caseInsensitiveEquals("content-type") ? .contentType : .xRequestId
        case 13: found = .authorization
        case 14: found = .contentLength
        case 17: found = .transferEncoding
        case 29: found = .accessControlRequestMethod
        case 30: found = .accessControlRequestHeaders
        default: found = nil
        }
        guard let found, name.caseInsensitiveEquals(found.name) else { return nil }
        self = found
    }
}

/// Where each `HTTPField` first appears in a head's header list (-1: absent). A value, no allocation.
public struct HTTPFieldIndex: Sendable, Equatable {
    private var positions = SIMD16<Int32>(repeating: -1)

    public init() {}

    /// The index of every field's first occurrence in `headers`.
    public init(_ headers: [(name: String, value: String)]) {
        for (position, header) in headers.enumerated() {
            if let field = HTTPField(name: header.name) { record(field, at: position) }
        }
    }

    /// Records `field` at `position` unless it was seen before; false when it had been.
    @discardableResult
    public mutating func record(_ field: HTTPField, at position: Int) -> Bool {
        guard positions[field.rawValue] < 0 else { return false }
        positions[field.rawValue] = Int32(truncatingIfNeeded: position)
        return true
    }

    /// The position of the field's first occurrence.
    public subscript(_ field: HTTPField) -> Int? {
        let position = positions[field.rawValue]
        return position < 0 ? nil : Int(position)
    }
}
