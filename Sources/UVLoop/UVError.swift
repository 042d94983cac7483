internal import CUV

/// A failed libuv call: which call, its code and libuv's message. Every uv_* return code that can fail goes
/// through `check`, so a failure is never silently ignored and always names what failed.
public struct UVError: Error, Sendable, CustomStringConvertible {
    public let call: String
    public let code: Int32

    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    public var message: String { String(cString: uv_strerror(code)) }
    public var description: String { "\(call): \(message)" }

    /// Throws when `rc` is a libuv error (negative).
    public static func check(_ rc: Int32, _ call: @autoclosure () -> String) throws(UVError) {
        if rc < 0 { throw UVError(call: call(), code: rc) }
    }
}
