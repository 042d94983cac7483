import JSONKit

/// A parsed request line and header block: the method decoded once, and the fields the server and handlers look
/// up (`HTTPField`) found once, in the decoder's pass.
public struct HTTPRequestHead: Sendable {
    public var method: HTTPMethod
    /// The request target as sent (`/path?query`).
    public var target: String
    public var versionMajor: Int
    public var versionMinor: Int
    /// Headers in arrival order; repeated names stay separate.
    public private(set) var headers: [(name: String, value: String)]
    /// Where each known field first appears in `headers`.
    public private(set) var fields: HTTPFieldIndex
    public var keepAlive: Bool
    public var expectsContinue: Bool
    public var contentLength: Int64?
    public var chunked: Bool

    public init(
        method: HTTPMethod, target: String, versionMajor: Int = 1, versionMinor: Int = 1,
        headers: [(name: String, value: String)] = [], keepAlive: Bool = true, expectsContinue: Bool = false,
        contentLength: Int64? = nil, chunked: Bool = false
    ) {
        self.init(
            method: method, target: target, versionMajor: versionMajor, versionMinor: versionMinor, headers: headers,
            fields: HTTPFieldIndex(headers), keepAlive: keepAlive, expectsContinue: expectsContinue,
            contentLength: contentLength, chunked: chunked)
    }

    /// A head whose field index the decoder built in its own pass over `headers`.
    init(
        method: HTTPMethod, target: String, versionMajor: Int, versionMinor: Int,
        headers: [(name: String, value: String)], fields: HTTPFieldIndex, keepAlive: Bool, expectsContinue: Bool,
        contentLength: Int64?, chunked: Bool
    ) {
        self.fields = fields
        self.method = method
        self.target = target
        self.versionMajor = versionMajor
        self.versionMinor = versionMinor
        self.headers = headers
        self.keepAlive = keepAlive
        self.expectsContinue = expectsContinue
        self.contentLength = contentLength
        self.chunked = chunked
    }

    /// Drops the header list (the decoder reuses its storage for the next head); the rest stays.
    mutating func releaseHeaders() {
        headers = []
        fields = HTTPFieldIndex()
    }

    /// The first value of a known field: an index lookup.
    public func header(_ field: HTTPField) -> String? {
        fields[field].map { headers[$0].value }
    }

    /// The first value of any header, case-insensitively: a scan (use `header(_: HTTPField)` for the known ones).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// The path part of the target, still percent-encoded.
    public var path: Substring {
        // By bytes: `?` is ASCII, and a Character scan (grapheme breaking) cost ~4,000 instructions a call.
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target[...] }
        return target[..<mark]
    }

    /// The query part of the target, without `?`, still encoded.
    public var query: Substring {
        guard let mark = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return "" }
        return target[target.utf8.index(after: mark)...]
    }
}
