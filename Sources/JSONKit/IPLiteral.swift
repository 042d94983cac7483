/// IP address literals as `Authority` reads them, pure Swift (no `inet_pton`, so S3Signing stays free of libc
/// networking): a strict dotted quad, and the RFC 4291 §2.2 text forms of IPv6.
enum IPLiteral {
    static let ipv6Loopback: [UInt8] = Array(repeating: 0, count: 15) + [1]
    static let v4MappedPrefix: [UInt8] = Array(repeating: 0, count: 10) + [0xFF, 0xFF]

    /// Four decimal parts 0-255 of 1 to 3 digits, no leading zeros (`inet_pton`'s rule): the 4 bytes, or nil.
    static func ipv4(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(4)
        for part in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard (1...3).contains(part.count), part.allSatisfy(ASCII.isDigit) else { return nil }
            guard part.count == 1 || part.first != UInt8(ascii: "0") else { return nil }
            let value = part.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 255, out.count < 4 else { return nil }
            out.append(UInt8(value))
        }
        return out.count == 4 ? out : nil
    }

    /// Eight groups of 1 to 4 hex digits, one `::` standing for one or more zero groups, the last 32 bits
    /// optionally as a dotted quad; no zone, at most 45 bytes. The 16 bytes, or nil.
    static func ipv6(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        guard (2...45).contains(bytes.count) else { return nil }
        let colon = UInt8(ascii: ":")
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var rest = bytes
        if rest.starts(with: [colon, colon]) {
            sawGap = true
            rest = rest.dropFirst(2)
            if rest.isEmpty { return Array(repeating: 0, count: 16) }
        }
        while !rest.isEmpty {
            let end = rest.firstIndex(of: colon) ?? rest.endIndex
            let group = rest[rest.startIndex..<end]
            if end == rest.endIndex, group.contains(UInt8(ascii: ".")) {
                guard let v4 = ipv4(group) else { return nil }
                let words = [UInt16(v4[0]) << 8 | UInt16(v4[1]), UInt16(v4[2]) << 8 | UInt16(v4[3])]
                if sawGap { tail += words } else { head += words }
                rest = rest[end...]
                break
            }
            guard (1...4).contains(group.count), let value = hexGroup(group) else { return nil }
            if sawGap { tail.append(value) } else { head.append(value) }
            rest = rest[end...]
            guard !rest.isEmpty else { break }
            rest = rest.dropFirst()  // the ':'
            if rest.first == colon {
                guard !sawGap else { return nil }  // a second '::'
                sawGap = true
                rest = rest.dropFirst()
                if rest.isEmpty { break }
            } else if rest.isEmpty {
                return nil  // a trailing single ':'
            }
        }
        let count = head.count + tail.count
        guard sawGap ? count <= 7 : count == 8 else { return nil }
        let words = head + Array(repeating: 0, count: 8 - count) + tail
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    static func hexGroup(_ digits: ArraySlice<UInt8>) -> UInt16? {
        var value: UInt16 = 0
        for digit in digits {
            guard let nibble = ASCII.hexValue(digit) else { return nil }
            value = value << 4 | UInt16(nibble)
        }
        return value
    }
}
