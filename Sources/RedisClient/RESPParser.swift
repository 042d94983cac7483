/// An incremental RESP2 reader: bytes go in as they arrive, in any chunking, and each complete reply comes out once.
/// It keeps its place between calls (a partly read line, number or bulk string, the arrays still open), so no byte
/// is read twice, and it checks every limit at the header that crosses it (a `$` length, a `*` count, the nesting,
/// the bytes of the reply so far, a line's length) before taking what the header announces. After a failure it
/// stays failed: the connection must be dropped, since the bytes that follow cannot be framed.
///
/// Memory for one reply is at most `maxReplyBytes` of strings plus the arrays' element slots (`maxElements`), and the
/// bytes of one partly read line (`maxLineBytes`).
struct RESPParser {
    struct Limits: Equatable {
        var maxDepth = RedisReply.Limits.maxDepth
        var maxElements = RedisReply.Limits.maxElements
        var maxBulkBytes = RedisReply.Limits.maxBulkBytes
        var maxReplyBytes = RedisReply.Limits.maxReplyBytes
        var maxLineBytes = RedisReply.Limits.maxLineBytes
    }

    /// The longest integer line (`:`, or the number of a `$` or `*` header) without CRLF: "-9223372036854775808".
    static let maxIntegerBytes = 20

    private enum Step: Equatable {
        /// The next byte is a reply's type.
        case type
        /// Status (`+`) or error (`-`) text, up to CR; the text so far is in `text`.
        case line(error: Bool)
        case number(Number)
        /// CR read after a line or a number: LF must follow.
        case lineFeed(LineEnd)
        /// Bytes of a bulk string still to come (then CRLF).
        case bulk(remaining: Int)
        /// The bulk string is whole: CR, then LF.
        case bulkCR
        case bulkLF
        case failed(Failure)
    }

    private enum Number: Equatable {
        case integer, bulkLength, count
    }

    private enum LineEnd: Equatable {
        case status, error
        case number(Number)
    }

    private struct Frame {
        var elements: [RedisReply]
        var remaining: Int
    }

    let limits: Limits
    private var step = Step.type
    /// The status, error or bulk string being read.
    private var text: [UInt8] = []
    private var negative = false
    private var magnitude: UInt64 = 0
    private var numberBytes = 0
    /// The arrays open around the value being read, outermost first.
    private var frames: [Frame] = []
    /// Bytes of the current reply read so far, and the elements its array headers announced.
    private var replyBytes = 0
    private var announcedElements = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Whether a reply is partly read (bytes taken that are not yet part of a returned reply).
    var isInsideReply: Bool { replyBytes > 0 }

    /// Reads `input` on from where the last call stopped: the replies it completed, in order, and the failure that
    /// stopped it, if any (the replies before the failure are still good; nothing after it is read).
    mutating func parse(_ input: UnsafeRawBufferPointer) -> (replies: [RedisReply], failure: Failure?) {
        var replies: [RedisReply] = []
        if case .failed(let failure) = step { return (replies, failure) }
        var index = 0
        while index < input.count {
            if case .bulk(let remaining) = step {
                let count = min(remaining, input.count - index)
                text.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[index..<(index + count)]))
                index += count
                replyBytes += count
                step = count == remaining ? .bulkCR : .bulk(remaining: remaining - count)
                continue
            }
            let byte = input[index]
            index += 1
            replyBytes += 1
            do throws(Failure) {
                guard replyBytes <= limits.maxReplyBytes else { throw .replyTooLarge(limit: limits.maxReplyBytes) }
                try read(byte, into: &replies)
            } catch {
                step = .failed(error)
                text = []
                frames = []
                return (replies, error)
            }
        }
        return (replies, nil)
    }

    /// `parse` over an array (tests, and callers without a raw buffer).
    mutating func parse(_ input: [UInt8]) -> (replies: [RedisReply], failure: Failure?) {
        input.withUnsafeBytes { parse($0) }
    }

    private mutating func read(_ byte: UInt8, into replies: inout [RedisReply]) throws(Failure) {
        switch step {
        case .type:
            switch byte {
            case UInt8(ascii: "+"): step = .line(error: false)
            case UInt8(ascii: "-"): step = .line(error: true)
            case UInt8(ascii: ":"): startNumber(.integer)
            case UInt8(ascii: "$"): startNumber(.bulkLength)
            case UInt8(ascii: "*"): startNumber(.count)
            default: throw .malformed("byte \(Self.hex(byte)) where a reply's type was expected")
            }
        case .line(let error):
            switch byte {
            case 13: step = .lineFeed(error ? .error : .status)
            case 10: throw .malformed("a line feed without a carriage return")
            default:
                guard text.count < limits.maxLineBytes else { throw .lineTooLong(limit: limits.maxLineBytes) }
                text.append(byte)
            }
        case .number(let kind):
            try readDigit(byte, kind)
        case .lineFeed(let end):
            guard byte == 10 else { throw .malformed("a carriage return not followed by a line feed") }
            try lineEnded(end, into: &replies)
        case .bulkCR:
            guard byte == 13 else { throw .malformed("a bulk string longer than its length") }
            step = .bulkLF
        case .bulkLF:
            guard byte == 10 else { throw .malformed("a carriage return not followed by a line feed") }
            let bytes = text
            text = []
            complete(.string(bytes), into: &replies)
        case .bulk, .failed:
            preconditionFailure("handled by parse")
        }
    }

    private mutating func startNumber(_ kind: Number) {
        negative = false
        magnitude = 0
        numberBytes = 0
        step = .number(kind)
    }

    private mutating func readDigit(_ byte: UInt8, _ kind: Number) throws(Failure) {
        if byte == 13 {
            step = .lineFeed(.number(kind))
            return
        }
        guard numberBytes < Self.maxIntegerBytes else { throw .lineTooLong(limit: Self.maxIntegerBytes) }
        numberBytes += 1
        if byte == UInt8(ascii: "-") && numberBytes == 1 {
            negative = true
            return
        }
        guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else {
            throw .malformed("byte \(Self.hex(byte)) in an integer")
        }
        let (times10, overflow) = magnitude.multipliedReportingOverflow(by: 10)
        let (sum, carry) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
        guard !overflow, !carry, sum <= UInt64(Int64.max) + (negative ? 1 : 0) else {
            throw .malformed("an integer out of the 64-bit range")
        }
        magnitude = sum
    }

    private mutating func lineEnded(_ end: LineEnd, into replies: inout [RedisReply]) throws(Failure) {
        switch end {
        case .status, .error:
            let line = String(decoding: text, as: UTF8.self)
            text.removeAll(keepingCapacity: text.capacity <= 4096)
            complete(end == .status ? .status(line) : .error(line), into: &replies)
        case .number(let kind):
            guard numberBytes > (negative ? 1 : 0) else { throw .malformed("an integer without digits") }
            let value = negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
            switch kind {
            case .integer: complete(.integer(value), into: &replies)
            case .bulkLength: try startBulk(value, into: &replies)
            case .count: try startArray(value, into: &replies)
            }
        }
    }

    private mutating func startBulk(_ length: Int64, into replies: inout [RedisReply]) throws(Failure) {
        if length == -1 { return complete(.null, into: &replies) }
        guard length >= 0 else { throw .malformed("a bulk string length of \(length)") }
        guard length <= limits.maxBulkBytes else { throw .bulkTooLong(length: length, limit: limits.maxBulkBytes) }
        let count = Int(length)
        guard replyBytes + count + 2 <= limits.maxReplyBytes else { throw .replyTooLarge(limit: limits.maxReplyBytes) }
        text.reserveCapacity(count)
        step = count == 0 ? .bulkCR : .bulk(remaining: count)
    }

    private mutating func startArray(_ count: Int64, into replies: inout [RedisReply]) throws(Failure) {
        if count == -1 { return complete(.null, into: &replies) }
        guard count >= 0 else { throw .malformed("an array length of \(count)") }
        guard frames.count < limits.maxDepth else { throw .tooDeep(limit: limits.maxDepth) }
        let total = Int64(announcedElements) + count
        guard total <= limits.maxElements else { throw .tooManyElements(count: total, limit: limits.maxElements) }
        announcedElements = Int(total)
        guard count > 0 else { return complete(.array([]), into: &replies) }
        var elements: [RedisReply] = []
        elements.reserveCapacity(Int(count))
        frames.append(Frame(elements: elements, remaining: Int(count)))
        step = .type
    }

    /// A value is whole: it goes into the innermost open array, closing every array it fills; at the top it is a reply.
    private mutating func complete(_ value: RedisReply, into replies: inout [RedisReply]) {
        step = .type
        var value = value
        while !frames.isEmpty {
            let last = frames.count - 1
            frames[last].elements.append(value)
            frames[last].remaining -= 1
            guard frames[last].remaining == 0 else { return }
            value = .array(frames.removeLast().elements)
        }
        replies.append(value)
        replyBytes = 0
        announcedElements = 0
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        return "0x" + String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 15)]], as: UTF8.self)
    }
}
