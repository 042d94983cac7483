import JSONKit
/// Input checks shared by presigned URLs and POST forms: reject what S3 would reject later, with a message now.
public enum S3Validation {
    static func check(bucket: String, addressing: Addressing, endpoint: S3Endpoint, vanityDomains: [String] = [])
        throws(SigningError)
    {
        let bytes = Array(bucket.utf8)
        func isLowerAlnum(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
        }
        guard !bytes.isEmpty else { throw SigningError(.invalidBucketName, "bucket name is required") }
        // Virtual addressing against an IP address falls back to path style (see S3Target).
        let effective = addressing == .virtual && endpoint.isIPAddress ? .path : addressing
        switch effective {
        case .path:
            let allowed = bytes.allSatisfy {
                isLowerAlnum($0) || ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z")) || $0 == UInt8(ascii: ".")
                    || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
            }
            guard allowed, bytes.count <= 255, bucket != ".", bucket != ".." else {
                throw SigningError(
                    .invalidBucketName,
                    "invalid bucket name '\(bucket)': use 1-255 letters, digits, '.', '-' or '_'")
            }
        case .virtual:
            guard (3...63).contains(bytes.count), isLowerAlnum(bytes.first!), isLowerAlnum(bytes.last!),
                bytes.allSatisfy({ isLowerAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }),
                !zip(bytes, bytes.dropFirst()).contains(where: { $0 == UInt8(ascii: ".") && !isLowerAlnum($1) || $1 == UInt8(ascii: ".") && !isLowerAlnum($0) })
            else {
                throw SigningError(
                    .invalidBucketName,
                    "bucket name '\(bucket)' is not valid for virtual-hosted addressing: it must be 3-63 lower-case "
                        + "letters, digits, '-' or '.', start and end with a letter or digit; use path addressing")
            }
            // S3's own rule: not formatted as an IPv4 address. The host is `bucket.endpoint`, which never ends in a
            // number here (an endpoint that does is an address, and falls back to path style above).
            let parts = bucket.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count == 4 && parts.allSatisfy({ (1...3).contains($0.count) && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) {
                throw SigningError(.invalidBucketName, "bucket name '\(bucket)' must not look like an IP address")
            }
            if endpoint.scheme == "https" && bytes.contains(UInt8(ascii: ".")) {
                throw SigningError(
                    .invalidBucketName,
                    "bucket name '\(bucket)' contains '.', which breaks TLS certificate matching for virtual-hosted "
                        + "https URLs; use path or vanity addressing")
            }
        case .vanity:
            try checkVanity(bucket: bucket, domains: vanityDomains)
        }
    }

    /// The bucket is the host that presignd (admin proxy) and URL holders connect to: it must be a DNS name that
    /// cannot mean an address. LDH labels of 1-63 bytes, at most 253 bytes, at least two labels (a single label is
    /// resolved through search domains and /etc/hosts: `localhost`, `metadata`), not ending in a number (every IPv4
    /// notation does), not under `localhost` (curl answers it with loopback without asking DNS), and under one of
    /// `domains` when any are configured.
    static func checkVanity(bucket: String, domains: [String]) throws(SigningError) {
        guard isHostName(bucket) else {
            throw SigningError(
                .invalidBucketName,
                "bucket name '\(bucket)' is not a host name, which vanity addressing needs (the bucket is the host)")
        }
        if S3Endpoint.isIPLiteral(bucket) {
            throw SigningError(
                .invalidBucketName,
                "bucket name '\(bucket)' is an IP address or ends in a number as one does; vanity addressing needs a "
                    + "DNS name (the bucket is the host)")
        }
        guard bucket.utf8.contains(UInt8(ascii: ".")) else {
            throw SigningError(
                .invalidBucketName,
                "bucket name '\(bucket)' is a single label; vanity addressing needs a DNS name with a dot (the bucket "
                    + "is the host)")
        }
        if bucket.hasSuffix(".localhost") {
            throw SigningError(.invalidBucketName, "bucket name '\(bucket)' is under localhost, which always names this machine")
        }
        if !domains.isEmpty && !domains.contains(where: { bucket == $0 || bucket.hasSuffix("." + $0) }) {
            throw SigningError(
                .invalidBucketName,
                "bucket name '\(bucket)' is not under an allowed vanity domain (\(domains.joined(separator: ", ")))")
        }
    }

    /// Lower-case LDH labels of 1-63 bytes that start and end with a letter or digit, at most 253 bytes in all.
    public static func isHostName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func isLowerAlnum(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "a") && b <= UInt8(ascii: "z")) || (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"))
        }
        return (1...253).contains(bytes.count)
            && bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.count) && isLowerAlnum(label.first!) && isLowerAlnum(label.last!)
                    && label.allSatisfy { isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
            }
    }

    static func check(key: String) throws(SigningError) {
        guard !key.isEmpty else { throw SigningError(.invalidKey, "object key is required") }
        guard key.utf8.count <= 1024 else {
            throw SigningError(.invalidKey, "object key is \(key.utf8.count) bytes; S3 allows at most 1024")
        }
    }

    static let reservedHeaders: Set<String> = ["host", "authorization", "x-amz-date", "x-amz-security-token"]

    static func check(headers: [(name: String, value: String)]) throws(SigningError) {
        for (name, value) in headers {
            guard !name.isEmpty, name.utf8.allSatisfy(ASCII.isTokenByte) else {
                throw SigningError(.invalidHeader, "invalid header name '\(name)'")
            }
            guard !reservedHeaders.contains(name.lowercased()) else {
                throw SigningError(.invalidHeader, "header '\(name)' is set by the signer and cannot be given")
            }
            guard !value.utf8.contains(where: { $0 == 0 || $0 == 0x0A || $0 == 0x0D }) else {
                throw SigningError(.invalidHeader, "header '\(name)' has a line break or NUL in its value")
            }
        }
    }

    static func check(query: [(name: String, value: String)]) throws(SigningError) {
        for (name, _) in query {
            let lower = name.lowercased()
            guard !name.isEmpty else { throw SigningError(.invalidQuery, "query parameter name is empty") }
            guard !lower.hasPrefix("x-amz-"), !["awsaccesskeyid", "s3fmaccesskeyid", "signature", "expires"].contains(lower)
            else {
                throw SigningError(.invalidQuery, "query parameter '\(name)' is set by the signer and cannot be given")
            }
        }
    }

    /// A region as the signer writes it into the credential scope: printable ASCII, no space or `/` (the scope's
    /// separator). The command line and the config loader both ask this.
    public static func isRegion(_ region: String) -> Bool {
        !region.isEmpty && region.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "/") }
    }
}
