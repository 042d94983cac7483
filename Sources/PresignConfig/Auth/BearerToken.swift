import Crypto
import Foundation
import JSONKit
import JWTKit

/// `Authorization: Bearer <token>`: the scheme in any case (RFC 9110), spaces and tabs around the token dropped.
/// nil when the header is not a Bearer credential; the token may be empty.
public enum BearerToken {
    public static func token(in header: String) -> String? {
        let utf8 = header.utf8
        guard utf8.count >= 7, zip(utf8.prefix(7), "bearer ".utf8).allSatisfy({ ($0 | 0x20) == $1 }) else { return nil }
        return String(ASCII.trimmed(Substring(utf8.dropFirst(7))))
    }
}
