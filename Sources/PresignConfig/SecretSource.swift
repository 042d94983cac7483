import Crypto
import Foundation
import S3Signing
import Yams
import JSONKit

/// Where secrets come from: environment variables and files only, never the config text itself.
public struct SecretSource: Sendable {
    public var environment: [String: String]
    public var readFile: @Sendable (String) -> String?

    public init(environment: [String: String], readFile: @escaping @Sendable (String) -> String? = SecretSource.readFromDisk) {
        self.environment = environment
        self.readFile = readFile
    }

    public static let process = SecretSource(environment: ProcessInfo.processInfo.environment)

    /// For checking a config's shape where its secrets are not at hand (`check-config --placeholder-secrets`, the
    /// Kubernetes example in `make deploy-check`): every secret read, by environment or file, gives this value.
    public var placeholder: String?

    public static func placeholders() -> SecretSource {
        var source = SecretSource(environment: [:], readFile: { _ in nil })
        source.placeholder = "placeholder-secret-for-config-checks-0123456789"
        return source
    }

    public static let readFromDisk: @Sendable (String) -> String? = { path in
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// A secret from `env` or `file` (trailing newline removed, as Kubernetes secret files often have one).
    func value(env: String?, file: String?, path: String, what: String) throws(ConfigError) -> String {
        if env != nil && file != nil { throw ConfigError(path, "give \(what) by environment or by file, not both") }
        if let placeholder, env != nil || file != nil { return placeholder }
        if let env {
            guard let value = environment[env], !value.isEmpty else {
                throw ConfigError(path, "environment variable \(env) (\(what)) is not set")
            }
            return value
        }
        if let file {
            guard let text = readFile(file) else { throw ConfigError(path, "cannot read \(what) file \(file)") }
            let value = String(ASCII.trimmed(text[...]))
            guard !value.isEmpty else { throw ConfigError(path, "\(what) file \(file) is empty") }
            return value
        }
        throw ConfigError(path, "\(what) is required (an _env or _file field)")
    }
}
