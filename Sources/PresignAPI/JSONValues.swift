import Foundation

/// Small helpers over JSONSerialization's output.
enum JSONValues {
    /// JSON `true`/`false` arrive as NSNumber too; tell them apart from numbers by their type encoding.
    static func isBool(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// An integral JSON number (not a bool, not a fraction) as Int64.
    static func integer(_ value: Any) -> Int64? {
        guard !isBool(value), let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite, double == double.rounded(), abs(double) < 9.0e15 else { return nil }
        return Int64(double)
    }
}
