import JSONKit
import Foundation
import S3Signing

/// One media type exactly as RFC 9110 §8.3.1 writes it: `type "/" subtype *( OWS ";" OWS parameter )`, where type,
/// subtype and parameter names are tokens and a parameter value is a token or a quoted-string. Anything else
/// (a comma-separated list, `image/png;`, a trailing space, a control character, a tab, non-ASCII, more than 256
/// bytes) is not a media type: S3 stores and serves a Content-Type as given, and a browser reading
/// `image/png, text/html` may pick the second type.
public struct MediaType: Sendable, Equatable {
    /// Lower case.
    public let type: String
    /// Lower case.
    public let subtype: String

    public init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 256 else { return nil }
        var index = 0
        func token() -> Bool {
            let start = index
            while index < bytes.count, ASCII.isTokenByte(bytes[index]) { index += 1 }
            return index > start
        }
        func spaces() { while index < bytes.count, bytes[index] == 0x20 { index += 1 } }
        guard token() else { return nil }
        let typeEnd = index
        guard index < bytes.count, bytes[index] == UInt8(ascii: "/") else { return nil }
        index += 1
        let subtypeStart = index
        guard token() else { return nil }
        let subtypeEnd = index
        while index < bytes.count {
            spaces()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ";") else { return nil }
            index += 1
            spaces()
            guard token(), index < bytes.count, bytes[index] == UInt8(ascii: "=") else { return nil }
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                // quoted-string: qdtext (SP, visible ASCII but '"' and '\') or a quoted-pair ('\' then SP or visible).
                index += 1
                var closed = false
                while index < bytes.count {
                    let b = bytes[index]
                    if b == UInt8(ascii: "\"") {
                        index += 1
                        closed = true
                        break
                    }
                    if b == UInt8(ascii: "\\") {
                        index += 1
                        guard index < bytes.count, bytes[index] >= 0x20, bytes[index] < 0x7F else { return nil }
                    } else if b < 0x20 || b >= 0x7F {
                        return nil
                    }
                    index += 1
                }
                guard closed else { return nil }
            } else {
                guard token() else { return nil }
            }
        }
        type = String(decoding: bytes[..<typeEnd], as: UTF8.self).lowercased()
        subtype = String(decoding: bytes[subtypeStart..<subtypeEnd], as: UTF8.self).lowercased()
    }

    /// Types a browser may run script from when the object is served from the bucket's origin: any subtype whose
    /// name contains `html`, `xml`, `xsl` or `script` (text/html, application/xhtml+xml, image/svg+xml, text/xml,
    /// application/xml, every `+xml`, text/javascript, application/ecmascript, text/vbscript, ...), and
    /// application/x-shockwave-flash. Matching on name parts errs wide on purpose: a harmless type caught here
    /// only needs listing exactly.
    public var isScriptCapable: Bool {
        subtype.containsASCII("html") || subtype.containsASCII("xml") || subtype.containsASCII("xsl") || subtype.containsASCII("script")
            || (type == "application" && subtype == "x-shockwave-flash")
            // Types a browser sniffs (WHATWG MIME Sniffing): the body decides, and an HTML body renders as HTML.
            || Self.isSniffed(type, subtype) || isWildcard
            // multipart/x-mixed-replace renders its parts, each with a type of its own; no multipart type is safe
            // to serve inline.
            || type == "multipart"
    }


    /// A wildcard (`*/*`, `image/*`) names no type: it may stand in a rule, never in what is signed.
    public var isWildcard: Bool { type.utf8.contains(UInt8(ascii: "*")) || subtype.utf8.contains(UInt8(ascii: "*")) }

    static func isSniffed(_ type: String, _ subtype: String) -> Bool {
        (type == "unknown" && subtype == "unknown")
            || (type == "application" && (subtype == "unknown" || subtype == "x-unknown-content-type"))
    }

    /// Whether a rule's `content_types` entry admits this type. `*/*` admits every type. `type/subtype` admits
    /// exactly that type (any case, any parameters). `type/*` admits the subtypes of `type` that are not
    /// script-capable: `image/*` means pictures, and image/svg+xml is a document that runs script, so a rule
    /// must list such a type exactly to allow it.
    public func isAdmitted(by pattern: String) -> Bool {
        let pattern = pattern.lowercased()
        if pattern == "*/*" { return true }
        if pattern.hasSuffix("/*") { return pattern.utf8.dropLast(2).elementsEqual(type.utf8) && !isScriptCapable }
        return pattern == type + "/" + subtype
    }
}
