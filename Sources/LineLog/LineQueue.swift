/// The lines one worker has logged that stdout has not taken yet. Pure (no I/O, clock or lock): `LineOutput` keeps
/// one per worker under a mutex and carries out the writes it hands out.
///
/// - Bounded: each stream holds at most its bound in bytes (newlines included); a line that does not fit is
///   dropped and counted, never waited for. `admits` says beforehand whether one would fit.
/// - Whole lines: `take` hands out a batch of whole lines in the order they came, so a write never ends inside a
///   line, and a line with a newline of its own is refused (it would read as two).
/// - Counted: `dropped(stream)` is every line refused by its bound, refused as not one line, or lost in a failed
///   write (`lost`).
public struct LineQueue: Sendable {
    /// The most bytes each stream may hold.
    public struct Bounds: Equatable, Sendable {
        public var access: Int
        public var audit: Int
        public var log: Int

        public init(access: Int, audit: Int, log: Int) {
            self.access = access
            self.audit = audit
            self.log = log
        }

        /// The config's defaults: 1 MiB of access and of other log lines, 4 MiB of audit lines per worker.
        public static let standard = Bounds(access: 1 << 20, audit: 4 << 20, log: 1 << 20)

        public subscript(stream: LogStream) -> Int {
            switch stream {
            case .access: return access
            case .audit: return audit
            case .log: return log
            }
        }
    }

    /// One queued line: its stream and its length with the newline.
    public struct Entry: Equatable, Sendable {
        public let stream: LogStream
        public let length: Int

        public init(stream: LogStream, length: Int) {
            self.stream = stream
            self.length = length
        }
    }

    /// Whole lines for one write, in order.
    public struct Batch: Equatable, Sendable {
        public let bytes: [UInt8]
        public let lines: [Entry]

        /// How many lines of each stream (by `LogStream.rawValue`) were not wholly written when only the first
        /// `written` bytes went out.
        public func unwritten(after written: Int) -> [Int] {
            var counts = [Int](repeating: 0, count: LogStream.allCases.count)
            var end = 0
            for line in lines {
                end += line.length
                if end > written { counts[line.stream.rawValue] += 1 }
            }
            return counts
        }
    }

    public var bounds: Bounds
    /// Queued bytes from `start` on; entries from `head` on. Both are compacted once half is consumed.
    private var storage: [UInt8] = []
    private var start = 0
    private var entries: [Entry] = []
    private var head = 0
    private var queuedBytes = [Int](repeating: 0, count: LogStream.allCases.count)
    private var droppedLines = [UInt64](repeating: 0, count: LogStream.allCases.count)

    public init(bounds: Bounds = .standard) {
        self.bounds = bounds
    }

    public var isEmpty: Bool { head == entries.count }

    /// Bytes of `stream` waiting, newlines included.
    public func queued(_ stream: LogStream) -> Int { queuedBytes[stream.rawValue] }

    /// Lines of `stream` dropped so far.
    public func dropped(_ stream: LogStream) -> UInt64 { droppedLines[stream.rawValue] }

    /// Whether a line of `bytes` bytes (without its newline) would be queued now.
    public func admits(bytes: Int, stream: LogStream) -> Bool {
        bytes >= 0 && queuedBytes[stream.rawValue] + bytes + 1 <= bounds[stream]
    }

    /// Queues `line` (without its newline; one is added). False, and counted as dropped, when it holds a newline
    /// or does not fit its stream's bound.
    @discardableResult
    public mutating func append(_ line: some Collection<UInt8>, stream: LogStream) -> Bool {
        let length = line.count
        guard admits(bytes: length, stream: stream), !line.contains(0x0A) else {
            droppedLines[stream.rawValue] &+= 1
            return false
        }
        storage.append(contentsOf: line)
        storage.append(0x0A)
        entries.append(Entry(stream: stream, length: length + 1))
        queuedBytes[stream.rawValue] += length + 1
        return true
    }

    /// The next lines to write: as many whole lines as fit in `maxBytes`, or the first line alone when it is
    /// longer. Nil when nothing waits. They leave the queue (and its bound) here.
    public mutating func take(maxBytes: Int) -> Batch? {
        guard head < entries.count else { return nil }
        var end = head
        var total = 0
        while end < entries.count, end == head || total + entries[end].length <= maxBytes {
            total += entries[end].length
            queuedBytes[entries[end].stream.rawValue] -= entries[end].length
            end += 1
        }
        let batch = Batch(bytes: Array(storage[start..<(start + total)]), lines: Array(entries[head..<end]))
        head = end
        start += total
        compact()
        return batch
    }

    /// Counts the lines of `batch` that were not wholly written (the write failed after `written` bytes).
    public mutating func lost(_ batch: Batch, written: Int) {
        for (index, count) in batch.unwritten(after: written).enumerated() { droppedLines[index] &+= UInt64(count) }
    }

    private mutating func compact() {
        if head == entries.count {
            // A burst's buffers go back to the allocator; a steady trickle keeps its small ones.
            entries.removeAll(keepingCapacity: entries.capacity <= 1024)
            storage.removeAll(keepingCapacity: storage.capacity <= 1 << 16)
            head = 0
            start = 0
        } else if head >= 64 && head * 2 >= entries.count {
            entries.removeFirst(head)
            storage.removeFirst(start)
            head = 0
            start = 0
        }
    }
}
