import Crypto
import Foundation
import JSONKit
import JWTKit

/// `Authorization: Bearer <token>`: the scheme in any case (RFC 9110), spaces and tabs around the token dropped.
/// nil when the header is not a Bearer credential; the token may be empty.
public enum BearerToken {
    public static func token(in header: String) -> String? {
        var header = header
        return header.withUTF8 { bytes -> String? in
            let scheme: StaticString = "bearer "
            guard bytes.count >= 7 else { return nil }
            for index in 0..<7 where bytes[index] | 0x20 != scheme.utf8Start[index] { return nil }
            var start = 7
            var end = bytes.count
            while start < end && (bytes[start] == 0x20 || bytes[start] == 0x09) { start += 1 }
            while end > start && (bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09) { end -= 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }
}
