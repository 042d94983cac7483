/// One mutable value per worker loop, each in its own heap box. The array of boxes is built once and never written
/// again, so worker threads only read it; each writes the value in its own box. (Writing different elements of one
/// shared Swift array is a data race: every write runs the array's uniqueness check on the shared buffer.)
///
/// `@unchecked Sendable`: the contract is that box `i` is only touched by worker `i`'s loop thread.
public final class PerWorker<Value>: @unchecked Sendable {
    final class Box {
        var value: Value
        init(_ value: Value) { self.value = value }
    }

    private let boxes: [Box]

    /// `make(i)` builds worker i's starting value.
    public init(count: Int, make: (Int) -> Value) {
        boxes = (0..<max(count, 1)).map { Box(make($0)) }
    }

    public var count: Int { boxes.count }

    /// Worker `index`'s value, for reading and writing on that worker's own thread.
    public subscript(index: Int) -> Value {
        get { boxes[index % boxes.count].value }
        set { boxes[index % boxes.count].value = newValue }
    }

    /// Mutates worker `index`'s value in place (no copy of a collection value).
    public func withValue<Result>(_ index: Int, _ body: (inout Value) throws -> Result) rethrows -> Result {
        try body(&boxes[index % boxes.count].value)
    }
}
