import JSONKit

/// A parsed request line and header block.
public struct HTTPRequestHead: Sendable {
    public var method: String
    /// The request target as sent (`/path?query`).
    public var target: String
    public var versionMajor: Int
    public var versionMinor: Int
    /// Headers in arrival order; repeated names stay separate.
    public var headers: [(name: String, value: String)]
    public var keepAlive: Bool
    public var expectsContinue: Bool
    public var contentLength: Int64?
    public var chunked: Bool

    public init(
        method: String, target: String, versionMajor: Int = 1, versionMinor: Int = 1,
        headers: [(name: String, value: String)] = [], keepAlive: Bool = true, expectsContinue: Bool = false,
        contentLength: Int64? = nil, chunked: Bool = false
    ) {
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

    /// The first value of a header, case-insensitively.
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
        guard let mark = target.firstIndex(of: "?") else { return "" }
        return target[target.index(after: mark)...]
    }
}
