/// A text that hashes and compares as its UTF-8 bytes. `String`'s own `Hashable` is canonical equivalence: it
/// treats different byte strings as equal and sorts each run of combining marks before hashing or comparing, which
/// costs the square of the run's length. Sets and dictionaries keyed by text from a client use this instead:
/// exact, and linear.
public struct ExactText: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (lhs: ExactText, rhs: ExactText) -> Bool { ASCII.same(lhs.text, rhs.text) }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        hasher.combine(text.utf8.count)
    }

    public var description: String { text }
}
