import Crypto
import Foundation
import JSONKit
import JWTKit

/// `Authorization: Bearer <token>`: the scheme in any case (RFC 9110), spaces and tabs around the token dropped.
/// nil when the header is not a Bearer credential; the token may be empty.
public enum BearerToken {
    public static func token(in header: String) -> String? {
        var header = header
        let isBearer = header.withUTF8 { bytes -> Bool in
            let scheme: StaticString = "bearer "
            guard bytes.count >= 7 else { return false }
            for index in 0..<7 where bytes[index] | 0x20 != scheme.utf8Start[index] { return false }
            return true
        }
        guard isBearer else { return nil }
        return String(ASCII.trimmed(Substring(header.utf8.dropFirst(7))))
    }
}
