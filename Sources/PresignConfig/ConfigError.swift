import Crypto
import Foundation
import S3Signing
import Yams

/// A configuration problem, with the path of the offending field (`callers[0].rules[1].key`).
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String

    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
