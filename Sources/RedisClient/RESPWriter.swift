/// Commands as RESP2 sends them: an array of bulk strings, binary-safe (`*2\r\n$3\r\nGET\r\n$1\r\nk\r\n`).
enum RESPWriter {
    static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(arguments.reduce(16) { $0 + $1.count + 16 })
        header(UInt8(ascii: "*"), arguments.count, into: &out)
        for argument in arguments {
            header(UInt8(ascii: "$"), argument.count, into: &out)
            out += argument
            out += [13, 10]
        }
        return out
    }

    private static func header(_ type: UInt8, _ count: Int, into out: inout [UInt8]) {
        out.append(type)
        out += Array(String(count).utf8)
        out += [13, 10]
    }
}
