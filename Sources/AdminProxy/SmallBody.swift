/// A small request body (an ACL document) collected from a streamed route. Over its limit it is refused whole: the
/// bytes so far are dropped and nothing that arrives later is kept, so the handler answers 413 and never sends a
/// truncated document upstream. A declared Content-Length over the limit is refused before a byte is read.
struct SmallBody {
    let limit: Int
    private(set) var bytes: [UInt8] = []
    private(set) var isOverLimit: Bool

    init(limit: Int, declaredLength: Int64?) {
        self.limit = limit
        isOverLimit = declaredLength.map { $0 > Int64(limit) } ?? false
    }

    /// Adds a chunk; false once the body is over its limit (then and for every later chunk).
    mutating func append(_ chunk: [UInt8]) -> Bool {
        guard !isOverLimit else { return false }
        guard chunk.count <= limit - bytes.count else {
            isOverLimit = true
            bytes = []
            return false
        }
        bytes += chunk
        return true
    }
}
