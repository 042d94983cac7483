import JSONKit
import S3Signing

/// The credential documents presignd reads, parsed strictly and bounded: the JSON AWS writes (container
/// credentials, `credential_process`, a sidecar's file) and the INI of `~/.aws/credentials`. Pure: bytes in, a
/// `CredentialSet` or a message that says what is wrong (never the secret) out.
public enum CredentialDocument {
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    /// The largest document read (a file, an HTTP answer).
    public static let maxBytes = 64 * 1024
    static let maxKeyId = 128
    static let maxSecret = 256
    static let maxToken = 16 * 1024

    /// A credentials file: JSON when its first non-blank byte is `{`, INI otherwise.
    public static func parseFile(_ bytes: [UInt8]) throws(ParseError) -> CredentialSet {
        guard bytes.count <= maxBytes else { throw ParseError("the document is over \(maxBytes) bytes") }
        let first = bytes.first { !($0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D) }
        if first == UInt8(ascii: "{") { return try parseJSON(bytes, requireExpiration: false) }
        return try parseINI(bytes)
    }

    /// `{"AccessKeyId","SecretAccessKey","Token"|"SessionToken","Expiration"}`: other members are ignored, except a
    /// `Code` other than `Success` (the container endpoint's own failure). `requireExpiration` for remote sources.
    public static func parseJSON(_ bytes: [UInt8], requireExpiration: Bool) throws(ParseError) -> CredentialSet {
        guard bytes.count <= maxBytes else { throw ParseError("the document is over \(maxBytes) bytes") }
        let value: JSONValue
        do { value = try JSONValue.parse(bytes) } catch { throw ParseError("not valid JSON: \(error.message)") }
        guard case .object = value else { throw ParseError("expected a JSON object") }
        func string(_ name: String) throws(ParseError) -> String? {
            switch value[name] {
            case nil, .null?: return nil
            case .string(let text)?: return text
            default: throw ParseError("\(name) must be a string")
            }
        }
        if let code = try string("Code"), code != "Success" {
            let message = (try? string("Message")) ?? nil
            throw ParseError("the endpoint answered Code \(printable(code))\(message.map { ": \(printable($0))" } ?? "")")
        }
        guard let key = try string("AccessKeyId") else { throw ParseError("AccessKeyId is missing") }
        guard let secret = try string("SecretAccessKey") else { throw ParseError("SecretAccessKey is missing") }
        let token = try string("Token")
        let sessionToken = try string("SessionToken")
        if token != nil && sessionToken != nil { throw ParseError("give Token or SessionToken, not both") }
        let expiration = try string("Expiration")
        if requireExpiration && expiration == nil { throw ParseError("Expiration is missing") }
        return try build(key: key, secret: secret, token: token ?? sessionToken, expiration: expiration, names: ("AccessKeyId", "SecretAccessKey", "Token", "Expiration"))
    }

    /// `aws_access_key_id`, `aws_secret_access_key`, optional `aws_session_token` and `expiration`, from the
    /// `[default]` section, the only section, or lines before any section. `#` and `;` start comments.
    public static func parseINI(_ bytes: [UInt8]) throws(ParseError) -> CredentialSet {
        guard bytes.count <= maxBytes else { throw ParseError("the document is over \(maxBytes) bytes") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw ParseError("not UTF-8 text") }
        var sections: [String: [String: String]] = [:]
        var order: [String] = []
        var current = ""
        for (number, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = ASCII.trimmed(raw)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), line.count > 2 else { throw ParseError("line \(number + 1): a section is [name]") }
                current = String(ASCII.trimmed(line.dropFirst().dropLast()))
                if current.hasPrefix("profile ") { current = String(ASCII.trimmed(current.dropFirst(8))) }
                guard sections[current] == nil else { throw ParseError("line \(number + 1): section [\(printable(current))] appears twice") }
                sections[current] = [:]
                order.append(current)
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw ParseError("line \(number + 1): expected key = value") }
            let key = ASCII.trimmed(line[..<equals]).lowercased()
            let value = String(ASCII.trimmed(line[line.index(after: equals)...]))
            if sections[current] == nil { sections[current] = [:]; order.insert(current, at: 0) }
            guard sections[current]![key] == nil else { throw ParseError("line \(number + 1): \(printable(key)) appears twice") }
            sections[current]![key] = value
        }
        let chosen: [String: String]
        if let values = sections["default"] {
            chosen = values
        } else if order.count == 1 {
            chosen = sections[order[0]]!
        } else if order.isEmpty {
            throw ParseError("aws_access_key_id is missing")
        } else {
            throw ParseError("several sections and no [default]")
        }
        guard let key = chosen["aws_access_key_id"] else { throw ParseError("aws_access_key_id is missing") }
        guard let secret = chosen["aws_secret_access_key"] else { throw ParseError("aws_secret_access_key is missing") }
        let token = chosen["aws_session_token"] ?? chosen["aws_security_token"]
        return try build(key: key, secret: secret, token: token, expiration: chosen["expiration"] ?? chosen["aws_expiration"],
                         names: ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "expiration"))
    }

    /// Checks each value: visible ASCII, within its length; the expiry an ISO 8601 UTC instant.
    public static func build(
        key: String, secret: String, token: String?, expiration: String?, names: (String, String, String, String)
    ) throws(ParseError) -> CredentialSet {
        try check(key, names.0, max: maxKeyId)
        try check(secret, names.1, max: maxSecret)
        if let token { try check(token, names.2, max: maxToken) }
        var expiry: Int64?
        if let expiration {
            guard let time = SigningTime(iso8601: expiration) else {
                throw ParseError("\(names.3) '\(printable(expiration))' is not an ISO 8601 UTC time (2006-01-02T15:04:05Z)")
            }
            expiry = time.epochSeconds
        }
        return CredentialSet(credentials: Credentials(accessKeyId: key, secretAccessKey: secret, sessionToken: token), expiration: expiry)
    }

    static func check(_ value: String, _ name: String, max: Int) throws(ParseError) {
        guard !value.isEmpty else { throw ParseError("\(name) is empty") }
        guard value.utf8.count <= max else { throw ParseError("\(name) is over \(max) bytes") }
        guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw ParseError("\(name) must be visible ASCII with no spaces") }
    }

    /// A value from the document, safe for a log line: at most 64 visible ASCII characters.
    public static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.prefix(64).map { $0.value > 0x1F && $0.value < 0x7F ? $0 : "?" }))
    }
}
