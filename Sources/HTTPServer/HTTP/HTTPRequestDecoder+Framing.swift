import JSONKit

/// Framing a request could be read two ways by two parsers is refused, never guessed (request smuggling).
extension HTTPRequestDecoder {
    /// Reject, never guess: any framing that two parsers could read differently.
    static func framingError(contentLengths: [String], transferEncodings: [String]) -> HTTPRequestError? {
        if !contentLengths.isEmpty && !transferEncodings.isEmpty {
            return .smuggling("both Transfer-Encoding and Content-Length")
        }
        if Set(contentLengths).count > 1 { return .smuggling("conflicting Content-Length values") }
        if transferEncodings.count > 1 || transferEncodings.contains(where: { !$0.caseInsensitiveEquals("chunked") }) {
            return .smuggling("Transfer-Encoding other than chunked")
        }
        return nil
    }

    /// The same check on raw header lines, for heads http-parser refused before handing us its headers.
    static func framingError(inRawHead head: ArraySlice<UInt8>) -> HTTPRequestError? {
        var contentLengths: [String] = []
        var transferEncodings: [String] = []
        let text = String(decoding: head, as: UTF8.self)
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon]
            let value = String(ASCII.trimmed(line[line.index(after: colon)...]))
            if name.caseInsensitiveEquals("content-length") { contentLengths.append(value) }
            if name.caseInsensitiveEquals("transfer-encoding") { transferEncodings.append(value) }
        }
        return framingError(contentLengths: contentLengths, transferEncodings: transferEncodings)
    }
}
