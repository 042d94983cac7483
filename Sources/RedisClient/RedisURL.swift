import JSONKit

/// A parsed `redis://[[user]:password@]host[:port][/db]`. Strict: no query, fragment, spaces or TLS scheme; user and
/// password are percent-decoded; IPv6 hosts go in brackets.
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public let database: Int
    public let user: String?
    public let password: String?

    public static let maxLength = 2048
    public static let maxUserLength = 256
    public static let maxPasswordLength = 512
    public static let maxHostLength = Authority.maxHostLength
    /// The largest bound a caller may give for the database number.
    public static let maxDatabaseBound = 1023

    /// Parses `text`; the database must be in 0...maxDatabase (Redis's default is 16 databases).
    public init(parsing text: String, maxDatabase: Int = 15) throws(RedisURLError) {
        precondition((0...Self.maxDatabaseBound).contains(maxDatabase), "maxDatabase \(maxDatabase) out of 0...1023")
        let bytes = Array(text.utf8)
        guard bytes.count <= Self.maxLength else { throw .init("URL is longer than \(Self.maxLength) bytes") }
        guard !bytes.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) else {
            throw .init("URL contains a space, control or non-ASCII character")
        }
        if text.hasPrefix("rediss://") { throw .init("rediss:// (TLS) is not supported") }
        guard text.hasPrefix("redis://") else { throw .init("URL must start with redis://") }
        var rest = Substring(text.dropFirst("redis://".count))
        guard !rest.contains("?"), !rest.contains("#") else { throw .init("URL must not have a query or fragment") }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var hostPort = rest
        var parsedUser: String?
        var parsedPassword: String?
        if let at = rest.firstIndex(of: "@") {
            let userinfo = rest[..<at]
            hostPort = rest[rest.index(after: at)...]
            guard !hostPort.contains("@") else { throw .init("'@' in the user or password must be written %40") }
            guard let colon = userinfo.firstIndex(of: ":") else {
                throw .init("user info must be ':password' or 'user:password'")
            }
            let rawUser = userinfo[..<colon]
            guard let decodedUser = ASCII.percentDecode(rawUser),
                  let decodedPassword = ASCII.percentDecode(userinfo[userinfo.index(after: colon)...])
            else { throw .init("user or password has a malformed %-escape or is not UTF-8") }
            guard decodedPassword.utf8.count <= Self.maxPasswordLength else {
                throw .init("password is longer than \(Self.maxPasswordLength) bytes")
            }
            guard decodedUser.utf8.count <= Self.maxUserLength else {
                throw .init("user is longer than \(Self.maxUserLength) bytes")
            }
            guard !decodedPassword.isEmpty else { throw .init("password is empty") }
            if !rawUser.isEmpty { parsedUser = decodedUser }
            parsedPassword = decodedPassword
        }
        (host, port) = try Self.hostAndPort(hostPort)
        database = try Self.database(path, max: maxDatabase)
        user = parsedUser
        password = parsedPassword
    }

    /// The same parse as a `Result`.
    public static func parse(_ text: String, maxDatabase: Int = 15) -> Result<RedisURL, RedisURLError> {
        Result { () throws(RedisURLError) in try RedisURL(parsing: text, maxDatabase: maxDatabase) }
    }

    /// The shared `Authority` rules; 6379 when no port is given.
    private static func hostAndPort(_ text: Substring) throws(RedisURLError) -> (String, Int) {
        do {
            let authority = try Authority(parsing: text)
            return (authority.hostText, authority.port ?? 6379)
        } catch {
            throw .init(error.message)
        }
    }

    private static func database(_ path: Substring, max: Int) throws(RedisURLError) -> Int {
        if path.isEmpty { return 0 }
        guard let number = decimal(path, maxDigits: 4), number <= max else {
            throw .init("database must be a number in 0...\(max)")
        }
        return number
    }

    /// Digits only, no sign and no leading zero (except "0" itself).
    private static func decimal(_ text: Substring, maxDigits: Int) -> Int? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count <= maxDigits, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        guard digits.count == 1 || digits[0] != 0x30 else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// The URL without its password, for logs.
    public var description: String {
        let userinfo = password == nil ? "" : "\(user ?? ""):***@"
        let hostText = host.contains(":") ? "[\(host)]" : host
        return "redis://\(userinfo)\(hostText):\(port)/\(database)"
    }
}

/// Why a Redis URL was refused; `message` names the part that is wrong.
public struct RedisURLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String

    init(_ message: String) { self.message = message }

    public var description: String { "invalid Redis URL: \(message)" }
}
