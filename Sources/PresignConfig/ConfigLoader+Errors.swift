import Crypto
import Foundation
import S3Signing
import RedisClient
import Yams
import PresignCore

/// YAML decoding errors as config paths and sentences (`callers[0].rules[1].bucket: …`).
extension ConfigLoader {
    static func path(of error: DecodingError) -> String {
        let context: DecodingError.Context
        switch error {
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        case .keyNotFound(let key, let c):
            return (c.codingPath + [key]).map(render).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        @unknown default: return ""
        }
        return context.codingPath.map(render).joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
    }

    static func render(_ key: any CodingKey) -> String {
        if let index = key.intValue { return "[\(index)]" }
        return key.stringValue
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound: return "required field is missing"
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found nothing"
        case .dataCorrupted(let context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
