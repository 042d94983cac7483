/// A request method, decoded once from the request line by `HTTPRequestDecoder`. The seven methods presignd's
/// endpoints are written against are cases; any other method that is a valid token (QUERY, TRACE, PROPFIND, or a
/// lowercase `get`: methods are case-sensitive, RFC 9110 9.1) is `.other` with its exact text, so that the router
/// answers it 405 with `Allow` (or 404) naming it, as it answers any method a path does not take. Nothing that is
/// not a token gets here (the decoder refuses it with 400), and neither does CONNECT (refused: nothing tunnels).
public enum HTTPMethod: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    case get, head, post, put, delete, options, patch
    case other(String)

    /// The method named by `token`, exactly as sent.
    public init(_ token: some StringProtocol) {
        switch token {
        case "GET": self = .get
        case "HEAD": self = .head
        case "POST": self = .post
        case "PUT": self = .put
        case "DELETE": self = .delete
        case "OPTIONS": self = .options
        case "PATCH": self = .patch
        default: self = .other(String(token))
        }
    }

    /// The method named by the request line's first bytes (no copy for the seven known ones).
    init(bytes: ArraySlice<UInt8>) {
        if let known = Self.known(bytes) {
            self = known
        } else {
            self = .other(String(decoding: bytes, as: UTF8.self))
        }
    }

    /// One of the seven cases when `bytes` spell it exactly, by length then bytes.
    static func known(_ bytes: ArraySlice<UInt8>) -> HTTPMethod? {
        func spells(_ word: StaticString) -> Bool {
            word.withUTF8Buffer { bytes.elementsEqual($0) }
        }
        switch bytes.count {
        case 3:
            if spells("GET") { return .get }
            if spells("PUT") { return .put }
        case 4:
            if spells("HEAD") { return .head }
            if spells("POST") { return .post }
        case 5:
            if spells("PATCH") { return .patch }
        case 6:
            if spells("DELETE") { return .delete }
        case 7:
            if spells("OPTIONS") { return .options }
        default:
            break
        }
        return nil
    }

    public init(stringLiteral value: String) { self.init(value) }

    /// The method's name as it appears on the wire.
    public var name: String {
        switch self {
        case .get: "GET"
        case .head: "HEAD"
        case .post: "POST"
        case .put: "PUT"
        case .delete: "DELETE"
        case .options: "OPTIONS"
        case .patch: "PATCH"
        case .other(let text): text
        }
    }

    public var description: String { name }

    /// The order methods are listed in an OPTIONS answer's `Allow` and `Access-Control-Allow-Methods`.
    var listOrder: Int {
        switch self {
        case .get: 0
        case .head: 1
        case .post: 2
        case .put: 3
        case .delete: 4
        case .patch: 5
        case .options: 6
        case .other: 7
        }
    }
}
