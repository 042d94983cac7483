import XCTest
@testable import RedisClient
import TestSupport

final class RedisURLTests: XCTestCase {
    func testValidURLsParseToTheirParts() throws {
        let cases: [(String, String, Int, Int, String?, String?)] = [
            ("redis://localhost", "localhost", 6379, 0, nil, nil),
            ("redis://127.0.0.1:6380", "127.0.0.1", 6380, 0, nil, nil),
            ("redis://127.0.0.1:6380/", "127.0.0.1", 6380, 0, nil, nil),
            ("redis://cache.internal:1/15", "cache.internal", 1, 15, nil, nil),
            ("redis://:s3cret@host:65535/2", "host", 65535, 2, nil, "s3cret"),
            ("redis://app:p%40ss%3Aw%2Fd@host/0", "host", 6379, 0, "app", "p@ss:w/d"),
            ("redis://[::1]:7000/3", "::1", 7000, 3, nil, nil),
            ("redis://[2001:db8::7]", "2001:db8::7", 6379, 0, nil, nil),
            ("redis://a-b.c-d.example", "a-b.c-d.example", 6379, 0, nil, nil),
        ]
        for (text, host, port, database, user, password) in cases {
            let url = try RedisURL(parsing: text)
            XCTAssertEqual(url.host, host, text)
            XCTAssertEqual(url.port, port, text)
            XCTAssertEqual(url.database, database, text)
            XCTAssertEqual(url.user, user, text)
            XCTAssertEqual(url.password, password, text)
        }
        XCTAssertEqual(try RedisURL(parsing: "redis://h/1023", maxDatabase: 1023).database, 1023)
    }

    func testInvalidURLsSayWhatIsWrong() {
        let cases: [(String, String)] = [
            ("", "URL must start with redis://"),
            ("http://host", "URL must start with redis://"),
            ("REDIS://host", "URL must start with redis://"),
            ("rediss://host", "rediss:// (TLS) is not supported"),
            ("redis://", "host is empty"),
            ("redis://:6379", "host is empty"),
            ("redis://host:0", "port must be a number in 1...65535"),
            ("redis://host:65536", "port must be a number in 1...65535"),
            ("redis://host:", "port must be a number in 1...65535"),
            ("redis://host:06379", "port must be a number in 1...65535"),
            ("redis://host:+1", "port must be a number in 1...65535"),
            ("redis://host:1:2", "port must be a number in 1...65535"),
            ("redis://host/16", "database must be a number in 0...15"),
            ("redis://host/01", "database must be a number in 0...15"),
            ("redis://host/-1", "database must be a number in 0...15"),
            ("redis://host/1/2", "database must be a number in 0...15"),
            ("redis://host/db", "database must be a number in 0...15"),
            ("redis://host?db=1", "URL must not have a query or fragment"),
            ("redis://host#x", "URL must not have a query or fragment"),
            ("redis://ho st", "URL contains a space, control or non-ASCII character"),
            ("redis://hôst", "URL contains a space, control or non-ASCII character"),
            ("redis://host\n", "URL contains a space, control or non-ASCII character"),
            ("redis://pw@host", "user info must be ':password' or 'user:password'"),
            ("redis://:@host", "password is empty"),
            ("redis://:p@ss@host", "'@' in the user or password must be written %40"),
            ("redis://:p%4@host", "user or password has a malformed %-escape or is not UTF-8"),
            ("redis://:%ff@host", "user or password has a malformed %-escape or is not UTF-8"),
            ("redis://ho_st", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
            ("redis://-host", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
            ("redis://host..x", "host must be a DNS name, an IPv4 address or an [IPv6] address"),
            ("redis://[::1", "IPv6 host has no closing ]"),
            ("redis://[::1]x", "unexpected characters after the IPv6 host"),
            ("redis://[zz::1]", "IPv6 host is malformed"),
            ("redis://[]", "IPv6 host is malformed"),
            ("redis://" + String(repeating: "a", count: 2041), "URL is longer than 2048 bytes"),
            ("redis://" + String(repeating: "a.", count: 127) + "a", "host is longer than 253 bytes"),
            ("redis://" + String(repeating: "a", count: 64), "host must be a DNS name, an IPv4 address or an [IPv6] address"),
            ("redis://:" + String(repeating: "p", count: 513) + "@h", "password is longer than 512 bytes"),
            ("redis://" + String(repeating: "u", count: 257) + ":p@h", "user is longer than 256 bytes"),
        ]
        for (text, message) in cases {
            XCTAssertEqual(RedisURL.parse(text).failure, RedisURLError(message), text)
        }
    }

    func testThePasswordStaysOutOfTheDescription() throws {
        XCTAssertEqual(try RedisURL(parsing: "redis://app:secret@h:1/2").description, "redis://app:***@h:1/2")
        XCTAssertEqual(try RedisURL(parsing: "redis://[::1]").description, "redis://[::1]:6379/0")
    }

    func testSettingsSendAuthAndSelectOnlyWhenNeeded() throws {
        XCTAssertEqual(RedisSettings(url: try RedisURL(parsing: "redis://h")).handshake, [])
        XCTAssertEqual(RedisSettings(url: try RedisURL(parsing: "redis://u:p@h/3")).handshake,
                       [["AUTH", "u", "p"].map { Array($0.utf8) }, ["SELECT", "3"].map { Array($0.utf8) }])
        XCTAssertEqual(RedisSettings(url: try RedisURL(parsing: "redis://:p@h"), password: "q").handshake,
                       [["AUTH", "q"].map { Array($0.utf8) }])
    }

    /// Random strings over the URL alphabet and around valid URLs: the parser never crashes, and whatever it accepts
    /// prints back (without the password) to a URL that parses to the same parts.
    func testRandomInputNeverCrashesAndAcceptsOnlyWellFormedURLs() {
        var random = SplitMix64(seed: 20_240_601)
        let alphabet = Array("redis:/@[]:.%-_?#0123456789abcdefxyzAZ \u{7F}é".unicodeScalars)
        let seeds = ["redis://:pw@host:6379/1", "redis://[::1]:1/0", "redis://a.b:65535", "redis://u:p@h/15"]
        var accepted = 0
        for round in 0..<20_000 {
            var scalars = Array(seeds[round % seeds.count].unicodeScalars)
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let position = Int(random.next() % UInt64(scalars.count + 1))
                let scalar = alphabet[Int(random.next() % UInt64(alphabet.count))]
                switch random.next() % 3 {
                case 0: scalars.insert(scalar, at: position)
                case 1 where position < scalars.count: scalars.remove(at: position)
                default: if position < scalars.count { scalars[position] = scalar }
                }
            }
            var text = ""
            text.unicodeScalars.append(contentsOf: scalars)
            guard case .success(let url) = RedisURL.parse(text) else { continue }
            accepted += 1
            XCTAssertTrue(text.hasPrefix("redis://"), text)
            XCTAssertTrue((1...65535).contains(url.port) && (0...15).contains(url.database), text)
            XCTAssertFalse(url.host.isEmpty || url.host.contains(where: { " @/?#[]%".contains($0) }), text)
            let again = RedisURL.parse(url.description.replacingOccurrences(of: ":***@", with: ":x@"))
            XCTAssertEqual(again.map { [$0.host, String($0.port), String($0.database)] }.success,
                           [url.host, String(url.port), String(url.database)], text)
        }
        XCTAssertGreaterThan(accepted, 500, "the mutations keep some URLs valid")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }

    var success: Success? {
        if case .success(let value) = self { return value }
        return nil
    }
}
