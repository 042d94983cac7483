@testable import RedisClient
import Testing

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// One reply as RESP2 (the test's own encoder; null as `$-1`).
func encodeRESP(_ reply: RedisReply) -> [UInt8] {
    switch reply {
    case .string(let value): bytes("$\(value.count)\r\n") + value + bytes("\r\n")
    case .integer(let value): bytes(":\(value)\r\n")
    case .array(let items): bytes("*\(items.count)\r\n") + items.flatMap(encodeRESP)
    case .null: bytes("$-1\r\n")
    case .status(let text): bytes("+\(text)\r\n")
    case .error(let text): bytes("-\(text)\r\n")
    }
}

/// Parses `input` cut into the given chunks, in order, with one parser.
private func parse(_ chunks: [[UInt8]], limits: RESPParser.Limits = .init()) -> (replies: [RedisReply], failure: RESPParser.Failure?) {
    var parser = RESPParser(limits: limits)
    var replies: [RedisReply] = []
    for chunk in chunks {
        let (more, failure) = parser.parse(chunk)
        replies += more
        if let failure { return (replies, failure) }
    }
    return (replies, nil)
}

struct RESPParserExactTests {
    static let cases: [(String, [UInt8], RedisReply)] = [
        ("status", bytes("+OK\r\n"), .status("OK")),
        ("empty status", bytes("+\r\n"), .status("")),
        ("error", bytes("-ERR unknown command 'X'\r\n"), .error("ERR unknown command 'X'")),
        ("integer", bytes(":42\r\n"), .integer(42)),
        ("zero", bytes(":0\r\n"), .integer(0)),
        ("negative", bytes(":-7\r\n"), .integer(-7)),
        ("largest", bytes(":9223372036854775807\r\n"), .integer(.max)),
        ("smallest", bytes(":-9223372036854775808\r\n"), .integer(.min)),
        ("bulk", bytes("$5\r\nhello\r\n"), .string(bytes("hello"))),
        ("binary bulk", bytes("$6\r\n") + [0, 13, 10, 0xFF, 36, 42] + bytes("\r\n"), .string([0, 13, 10, 0xFF, 36, 42])),
        ("empty bulk", bytes("$0\r\n\r\n"), .string([])),
        ("null bulk", bytes("$-1\r\n"), .null),
        ("null array", bytes("*-1\r\n"), .null),
        ("empty array", bytes("*0\r\n"), .array([])),
        ("array", bytes("*3\r\n:1\r\n$1\r\na\r\n+x\r\n"), .array([.integer(1), .string(bytes("a")), .status("x")])),
        ("nested", bytes("*2\r\n*1\r\n*0\r\n$-1\r\n"), .array([.array([.array([])]), .null])),
        ("script reply", bytes("*2\r\n:0\r\n$7\r\nrevoked\r\n"), .array([.integer(0), .string(bytes("revoked"))])),
    ]

    @Test(arguments: cases.indices)
    func everyTypeParsesWhereverTheBytesAreSplit(_ index: Int) {
        let (name, input, expected) = Self.cases[index]
        for cut in 0...input.count {
            let (replies, failure) = parse([Array(input[..<cut]), Array(input[cut...])])
            #expect(failure == nil && replies == [expected], "\(name) cut at \(cut)")
        }
        #expect(parse(input.map { [$0] }).replies == [expected], "\(name) byte by byte")
        #expect(encodeRESP(expected) == input || name == "null array", "\(name): the test's encoder agrees")
    }

    @Test func aReplyIsReturnedOnlyOnceItIsWholeAndThePartStaysBetweenCalls() {
        var parser = RESPParser()
        #expect(parser.parse(bytes("*2\r\n$3\r\nab")).replies == [])
        #expect(parser.isInsideReply)
        #expect(parser.parse(bytes("c\r\n:")).replies == [])
        let (replies, failure) = parser.parse(bytes("5\r\n+PONG\r\n:1"))
        #expect(failure == nil)
        #expect(replies == [.array([.string(bytes("abc")), .integer(5)]), .status("PONG")])
        #expect(parser.isInsideReply)
        #expect(parser.parse(bytes("\r\n")).replies == [.integer(1)])
        #expect(!parser.isInsideReply)
    }

    @Test func repliesBeforeAFailureAreKeptAndTheParserStaysFailed() {
        var parser = RESPParser()
        let (replies, failure) = parser.parse(bytes("+OK\r\n:1\r\n!+PONG\r\n"))
        #expect(replies == [.status("OK"), .integer(1)])
        #expect(failure == .malformed("byte 0x21 where a reply's type was expected"))
        let again = parser.parse(bytes("+PONG\r\n"))
        #expect(again.replies == [] && again.failure == failure)
    }

    static let malformed: [(String, String)] = [
        ("!", "byte 0x21 where a reply's type was expected"),
        ("\r", "byte 0x0D where a reply's type was expected"),
        ("+OK\n", "a line feed without a carriage return"),
        ("+OK\rX", "a carriage return not followed by a line feed"),
        ("-ERR\r\r", "a carriage return not followed by a line feed"),
        ("$3\r\nabcd", "a bulk string longer than its length"),
        ("$3\r\nabc\rX", "a carriage return not followed by a line feed"),
        (":\r\n", "an integer without digits"),
        (":-\r\n", "an integer without digits"),
        (":1a", "byte 0x61 in an integer"),
        (":+", "byte 0x2B in an integer"),
        (":1-", "byte 0x2D in an integer"),
        (":1\rx", "a carriage return not followed by a line feed"),
        (":9223372036854775808", "an integer out of the 64-bit range"),
        (":-9223372036854775809", "an integer out of the 64-bit range"),
        (":10000000000000000000", "an integer out of the 64-bit range"),
        ("$-2\r\n", "a bulk string length of -2"),
        ("*-2\r\n", "an array length of -2"),
        ("*1\r\n?", "byte 0x3F where a reply's type was expected"),
    ]

    @Test(arguments: malformed.indices)
    func malformedInputFailsAtTheByteThatShowsIt(_ index: Int) {
        let (input, message) = Self.malformed[index]
        var parser = RESPParser()
        let (replies, failure) = parser.parse(bytes(input))
        #expect(replies == [] && failure == .malformed(message), "\(input.debugDescription)")
        // The same bytes without their last one are not yet an error.
        var shorter = RESPParser()
        #expect(shorter.parse(Array(bytes(input).dropLast())).failure == nil, "\(input.debugDescription) minus its last byte")
    }
}

struct RESPParserLimitTests {
    @Test func aBulkStringAtTheLimitPassesAndOneByteMoreFailsAtItsHeader() {
        let limit = RedisReply.Limits.maxBulkBytes
        let body = [UInt8](repeating: 7, count: limit)
        #expect(parse([bytes("$\(limit)\r\n") + body + bytes("\r\n")]).replies == [.string(body)])
        #expect(parse([bytes("$\(limit + 1)\r\n")]).failure == .bulkTooLong(length: Int64(limit + 1), limit: limit))
        #expect(parse([bytes("$1073741824\r\n")]).failure == .bulkTooLong(length: 1_073_741_824, limit: 1_048_576))
        #expect(parse([bytes("$1073741824\r")]).failure == nil, "not before the header is whole")
    }

    @Test func elementsCountOverTheWholeReplyAndFailAtTheHeaderThatPassesTheLimit() {
        let ones = Array(repeating: RedisReply.integer(1), count: 1024)
        #expect(parse([bytes("*1024\r\n") + ones.flatMap(encodeRESP)]).replies == [.array(ones)])
        #expect(parse([bytes("*1025\r\n")]).failure == .tooManyElements(count: 1025, limit: 1024))
        #expect(parse([bytes("*100000000\r\n")]).failure == .tooManyElements(count: 100_000_000, limit: 1024))
        let inner = bytes("*1000\r\n") + Array(repeating: RedisReply.integer(1), count: 1000).flatMap(encodeRESP)
        #expect(parse([bytes("*2\r\n") + inner + bytes("*22\r\n")]).failure == nil)
        #expect(parse([bytes("*2\r\n") + inner + bytes("*23\r\n")]).failure == .tooManyElements(count: 1025, limit: 1024))
        // The count starts again with each reply.
        let two = bytes("*1024\r\n") + ones.flatMap(encodeRESP)
        #expect(parse([two + two]).replies == [.array(ones), .array(ones)])
    }

    @Test func nestingDeeperThanEightFailsAtTheNinthArrayHeader() {
        var eight: RedisReply = .integer(1)
        for _ in 0..<8 { eight = .array([eight]) }
        #expect(parse([encodeRESP(eight)]).replies == [eight])
        let nine = Array(repeating: bytes("*1\r\n"), count: 9).flatMap { $0 }
        #expect(parse([Array(nine.dropLast(4))]).failure == nil)
        #expect(parse([nine]).failure == .tooDeep(limit: 8))
        #expect(parse([Array(nine.dropLast(4)) + bytes("*0\r\n")]).failure == .tooDeep(limit: 8))
        #expect(parse([Array(nine.dropLast(4)) + bytes("*-1\r\n")]).replies.count == 1, "a null is not an array")
    }

    @Test func theBytesOfOneReplyAreBoundedAtTheHeaderThatWouldPassThem() {
        let limits = RESPParser.Limits(maxReplyBytes: 32)
        // 4 + 11 bytes so far, then a header of 5 announcing 20 + 2 more: 42 > 32.
        #expect(parse([bytes("*3\r\n$5\r\nhello\r\n$20\r\n")], limits: limits).failure == .replyTooLarge(limit: 32))
        // 32 exactly passes, twice (the count starts again with each reply).
        let thirtyTwo = bytes("*2\r\n$5\r\nhello\r\n$10\r\nworld!!!!!\r\n")
        #expect(thirtyTwo.count == 32)
        let pair = RedisReply.array([.string(bytes("hello")), .string(bytes("world!!!!!"))])
        #expect(parse([thirtyTwo + bytes("+ab\r\n") + thirtyTwo], limits: limits).replies == [pair, .status("ab"), pair])
        // Lines count byte by byte: the 33rd byte fails, before its line ends.
        let lines = bytes("*2\r\n+") + [UInt8](repeating: 97, count: 19) + bytes("\r\n+12345")
        #expect(lines.count == 32)
        #expect(parse([lines], limits: limits).failure == nil)
        #expect(parse([lines + bytes("6")], limits: limits).failure == .replyTooLarge(limit: 32))
        // The default has room for one string at its limit and its header.
        let body = [UInt8](repeating: 1, count: RedisReply.Limits.maxBulkBytes)
        let big = bytes("*2\r\n$\(body.count)\r\n") + body + bytes("\r\n")
        #expect(parse([big + bytes("$1048576\r\n")]).failure == .replyTooLarge(limit: 2 << 20))
    }

    @Test func aStatusOrErrorLineIsBoundedBeforeItsCRLF() {
        let limits = RESPParser.Limits(maxLineBytes: 8)
        #expect(parse([bytes("+12345678\r\n-12345678\r\n")], limits: limits).replies == [.status("12345678"), .error("12345678")])
        #expect(parse([bytes("+123456789")], limits: limits).failure == .lineTooLong(limit: 8))
        #expect(parse([bytes("-123456789")], limits: limits).failure == .lineTooLong(limit: 8))
        let text = [UInt8](repeating: 97, count: RedisReply.Limits.maxLineBytes)
        #expect(parse([bytes("+") + text + bytes("\r\n")]).replies == [.status(String(decoding: text, as: UTF8.self))])
        #expect(parse([bytes("+") + text + bytes("a")]).failure == .lineTooLong(limit: 65_536))
    }

    @Test func anIntegerLineIsAtMostTwentyBytes() {
        #expect(parse([bytes(":-0000000000000000001\r\n")]).replies == [.integer(-1)])
        #expect(parse([bytes(":000000000000000000001")]).failure == .lineTooLong(limit: 20))
        #expect(parse([bytes("$000000000000000000001")]).failure == .lineTooLong(limit: 20))
        #expect(parse([bytes("*000000000000000000001")]).failure == .lineTooLong(limit: 20))
    }

    @Test func limitFailuresBecomeTooLargeAndTheRestProtocolErrors() {
        #expect(RESPParser.Failure.bulkTooLong(length: 1_073_741_824, limit: 1_048_576).error
            == .tooLarge("a bulk string of 1073741824 bytes (the limit is 1048576)"))
        #expect(RESPParser.Failure.tooManyElements(count: 100_000_000, limit: 1024).error
            == .tooLarge("100000000 array elements in one reply (the limit is 1024)"))
        #expect(RESPParser.Failure.tooDeep(limit: 8).error == .tooLarge("arrays nested deeper than 8"))
        #expect(RESPParser.Failure.replyTooLarge(limit: 2_097_152).error == .tooLarge("a reply over 2097152 bytes"))
        #expect(RESPParser.Failure.lineTooLong(limit: 65_536).error == .tooLarge("a line over 65536 bytes"))
        #expect(RESPParser.Failure.malformed("x").error == .protocolError("x"))
        #expect(RedisError.tooLarge("a reply over 2097152 bytes").description == "reply too large (a reply over 2097152 bytes)")
    }
}

struct RESPWriterTests {
    @Test func commandsAreArraysOfBulkStrings() {
        #expect(RESPWriter.command([bytes("GET"), bytes("k")]) == bytes("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"))
        #expect(RESPWriter.command([bytes("SET"), [0, 13, 10], []]) == bytes("*3\r\n$3\r\nSET\r\n$3\r\n") + [0, 13, 10] + bytes("\r\n$0\r\n\r\n"))
        let long = [UInt8](repeating: 120, count: 1000)
        #expect(RESPWriter.command([long]) == bytes("*1\r\n$1000\r\n") + long + bytes("\r\n"))
    }

    @Test func theParserReadsWhatTheWriterWrites() {
        let arguments = [bytes("EVALSHA"), bytes("abc"), [], [0, 255, 13, 10]]
        #expect(parse([RESPWriter.command(arguments)]).replies == [.array(arguments.map { .string($0) })])
    }
}
