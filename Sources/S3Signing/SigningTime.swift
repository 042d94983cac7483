/// A UTC instant with second precision, broken into the fields that signatures print.
/// The signer never reads a clock: callers pass this in.
public struct SigningTime: Sendable, Hashable, Comparable {
    /// Seconds since 1970-01-01T00:00:00Z.
    public let epochSeconds: Int64
    public let year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int

    public init(epochSeconds: Int64) {
        self.epochSeconds = epochSeconds
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let secondsOfDay = Int(epochSeconds - days * 86_400)
        (year, month, day) = Self.civil(fromDays: days)
        hour = secondsOfDay / 3600
        minute = secondsOfDay % 3600 / 60
        second = secondsOfDay % 60
    }

    public static func < (lhs: SigningTime, rhs: SigningTime) -> Bool { lhs.epochSeconds < rhs.epochSeconds }

    public func adding(seconds: Int64) -> SigningTime { SigningTime(epochSeconds: epochSeconds + seconds) }

    /// 9999-12-31T23:59:59Z: the last instant the four-digit formats can print.
    public static let latest = SigningTime(epochSeconds: 253_402_300_799)

    /// `adding(seconds:)` for untrusted lifetimes: nil when the result would fall outside 1970...`latest` (or overflow).
    public func addingIfRepresentable(seconds: Int64) -> SigningTime? {
        let (sum, overflow) = epochSeconds.addingReportingOverflow(seconds)
        guard !overflow, sum >= 0, sum <= Self.latest.epochSeconds else { return nil }
        return SigningTime(epochSeconds: sum)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SSZ` (an optional fraction is accepted and dropped; the zone must be `Z` or `+00:00`).
    public init?(iso8601 text: String) {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-"),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"), b[13] == UInt8(ascii: ":"),
            b[16] == UInt8(ascii: ":")
        else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for i in range {
                guard b[i] >= UInt8(ascii: "0"), b[i] <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b[i] - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let mo = number(5..<7), let d = number(8..<10), let h = number(11..<13),
            let mi = number(14..<16), let s = number(17..<19)
        else { return nil }
        var rest = b[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard !digits.isEmpty else { return nil }
            rest = rest.dropFirst(digits.count)
        }
        let zone = String(decoding: rest, as: UTF8.self)
        guard zone == "Z" || zone == "z" || zone == "+00:00" else { return nil }
        guard (1970...9999).contains(y), (1...12).contains(mo), (1...Self.daysIn(month: mo, year: y)).contains(d),
            h < 24, mi < 60, s < 60
        else { return nil }
        let days = Self.days(fromCivil: y, mo, d)
        self.init(epochSeconds: days * 86_400 + Int64(h * 3600 + mi * 60 + s))
    }

    /// `20130524T000000Z`
    public var amzDate: String {
        var out: [UInt8] = []
        out.reserveCapacity(16)
        appendAmzDate(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `20130524`
    public var dateStamp: String {
        var out: [UInt8] = []
        out.reserveCapacity(8)
        appendDateStamp(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @inline(__always)
    func appendDigits(_ value: Int, _ width: Int, to out: inout [UInt8]) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Writes `20130524` without allocating.
    public func appendDateStamp(to out: inout [UInt8]) {
        appendDigits(year, 4, to: &out)
        appendDigits(month, 2, to: &out)
        appendDigits(day, 2, to: &out)
    }

    /// Writes `20130524T000000Z` without allocating.
    public func appendAmzDate(to out: inout [UInt8]) {
        appendDateStamp(to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(hour, 2, to: &out)
        appendDigits(minute, 2, to: &out)
        appendDigits(second, 2, to: &out)
        out.append(UInt8(ascii: "Z"))
    }
    /// `2013-05-24T00:00:00Z`
    public var iso8601: String {
        var out: [UInt8] = []
        out.reserveCapacity(20)
        appendISO8601(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `2013-05-24T00:00:00Z` without allocating.
    public func appendISO8601(to out: inout [UInt8]) {
        appendDigits(year, 4, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(month, 2, to: &out)
        out.append(UInt8(ascii: "-"))
        appendDigits(day, 2, to: &out)
        out.append(UInt8(ascii: "T"))
        appendDigits(hour, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(minute, 2, to: &out)
        out.append(UInt8(ascii: ":"))
        appendDigits(second, 2, to: &out)
        out.append(UInt8(ascii: "Z"))
    }
    /// `Fri, 24 May 2013 00:00:00 GMT`, the HTTP date SigV2 header auth signs.
    public var httpDate: String {
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let days = epochSeconds >= 0 ? epochSeconds / 86_400 : (epochSeconds - 86_399) / 86_400
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        return "\(weekday), \(pad(day)) \(months[month - 1]) \(pad(year, 4)) \(pad(hour)):\(pad(minute)):\(pad(second)) GMT"
    }

    private func pad(_ value: Int, _ width: Int = 2) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    // Howard Hinnant's days-from-civil and civil-from-days algorithms (public domain facts about the calendar).
    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int64) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }
}
