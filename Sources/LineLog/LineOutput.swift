import Dispatch
import Foundation
import Synchronization
import UVLoop
#if canImport(Glibc)
import Glibc
#endif

/// Where a thread's lines queue: set by `LineOutput.bind(worker:)` on a worker's thread, unset elsewhere.
private let workerSlotKey: pthread_key_t = {
    var key = pthread_key_t()
    precondition(pthread_key_create(&key, nil) == 0, "pthread_key_create")
    return key
}()

/// stdout for log and audit lines, never blocking the thread that logs. Each worker appends to its own bounded
/// `LineQueue` (threads that are no worker's, such as the main thread, the SIGHUP handler or a test, share one
/// more); one writer thread of its own takes whole-line batches of at most `PIPE_BUF` bytes from each queue in
/// turn and writes them with blocking `write(2)`.
///
/// Why a thread rather than a non-blocking descriptor polled by each loop: O_NONBLOCK belongs to the open file
/// description, which stdout shares with stderr under `2>&1`, with the shell's terminal and with whatever else
/// holds the pipe, and they would all start failing with EAGAIN; and with one writer, lines from different
/// workers can never interleave inside a line, on a pipe, a socket (journald) or a file alike. A reader that stops
/// stalls only that thread: queues fill to their bounds, then lines are dropped and counted.
public final class LineOutput: Sendable {
    /// Worker slots; the shared slot comes after them.
    public static let workerSlots = 256
    /// The most bytes one write carries: a pipe takes a write of this size whole or not at all.
    static let batchBytes = Int(PIPE_BUF)

    /// One queue and its lock: `Locked` (a pthread mutex, which ThreadSanitizer sees; this toolchain's
    /// `Synchronization.Mutex` it does not).
    typealias Slot = Locked<LineQueue>

    private let fd: Int32
    private let slots: [Slot]
    /// One past the highest worker slot bound so far: the writer looks no further (plus the shared slot).
    private let boundSlots = Atomic<Int>(0)
    /// The writer is waiting (or about to) on `wake`; whoever flips it back signals.
    private let idle = Atomic<Bool>(false)
    /// The writer holds a batch it took and has not finished writing.
    private let writing = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let wake = DispatchSemaphore(value: 0)

    /// `fd` is written by the writer thread once `start()` runs (tests may leave it stopped and read the queues).
    public init(fd: Int32 = STDOUT_FILENO, bounds: LineQueue.Bounds = .standard, start: Bool = true) {
        self.fd = fd
        slots = (0...Self.workerSlots).map { _ in Slot(LineQueue(bounds: bounds)) }
        if start { self.start() }
    }

    /// Starts the writer thread (once).
    public func start() {
        guard !started.exchange(true, ordering: .sequentiallyConsistent) else { return }
        let thread = Thread { [self] in runWriter() }
        thread.name = "presignd-log"
        thread.start()
    }

    /// Makes the calling thread worker `index`'s: its lines go to that worker's queue from now on.
    public func bind(worker index: Int) {
        guard (0..<Self.workerSlots).contains(index) else { return }
        pthread_setspecific(workerSlotKey, UnsafeRawPointer(bitPattern: index + 1))
        while true {
            let seen = boundSlots.load(ordering: .sequentiallyConsistent)
            if seen > index || boundSlots.compareExchange(expected: seen, desired: index + 1, ordering: .sequentiallyConsistent).exchanged { break }
        }
    }

    /// The calling thread's queue.
    private var current: Slot {
        let bound = Int(bitPattern: pthread_getspecific(workerSlotKey)) - 1
        return slots[(0..<Self.workerSlots).contains(bound) ? bound : Self.workerSlots]
    }

    /// Queues one line (no newline; one is added) on the calling thread's queue; false when it was dropped.
    @discardableResult
    public func append(_ line: some Collection<UInt8>, stream: LogStream) -> Bool {
        let queued = current.withLock { $0.append(line, stream: stream) }
        if queued { signal() }
        return queued
    }

    /// Whether a line of `bytes` bytes would be queued now by the calling thread. Only the writer thread takes
    /// lines out of a worker's queue, so on that worker's thread the answer holds until the thread itself appends.
    public func admits(bytes: Int, stream: LogStream) -> Bool {
        current.withLock { $0.admits(bytes: bytes, stream: stream) }
    }

    /// Lines dropped so far, by stream, over every queue.
    public func dropped(_ stream: LogStream) -> UInt64 {
        slots.reduce(0) { sum, slot in sum &+ slot.withLock { $0.dropped(stream) } }
    }

    /// New bounds for every queue (lines already queued stay).
    public func setBounds(_ bounds: LineQueue.Bounds) {
        for slot in slots { slot.withLock { $0.bounds = bounds } }
    }

    /// Waits up to `seconds` for every queued line to be written (at exit); true when all were.
    @discardableResult
    public func flush(waitingAtMost seconds: Double) -> Bool {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(0, seconds) * 1e9)
        while true {
            let empty = slots.allSatisfy { slot in slot.withLock { $0.isEmpty } }
            if empty && !writing.load(ordering: .sequentiallyConsistent) { return true }
            if !started.load(ordering: .sequentiallyConsistent) || DispatchTime.now().uptimeNanoseconds >= deadline { return false }
            signal()
            usleep(1000)
        }
    }

    private static let atExit = Mutex<LineOutput?>(nil)

    /// Flushes this output (for up to a second) when the process exits, by `exit()` or by returning from main.
    public func flushAtExit() {
        let first = Self.atExit.withLock { current in
            defer { current = self }
            return current == nil
        }
        guard first else { return }
        atexit { _ = LineOutput.atExit.withLock { $0 }?.flush(waitingAtMost: 1) }
    }

    private func signal() {
        if idle.exchange(false, ordering: .sequentiallyConsistent) { wake.signal() }
    }

    private func runWriter() {
        // A reader that closed the pipe makes write fail with EPIPE here (the lines are counted as dropped)
        // instead of SIGPIPE ending the process: the signal of a failed write goes to the thread that wrote.
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
        while true {
            if writeOneRound() { continue }
            idle.store(true, ordering: .sequentiallyConsistent)
            let pending = slots.contains { slot in slot.withLock { !$0.isEmpty } }
            // Lines queued before `idle` was set would signal nobody: take them back at once, unless an
            // appender already flipped `idle` (then its signal is the one to consume).
            if pending && idle.exchange(false, ordering: .sequentiallyConsistent) { continue }
            wake.wait()
        }
    }

    /// One batch from each queue that has lines; false when none had.
    private func writeOneRound() -> Bool {
        var wrote = false
        let indexes = Array(0..<boundSlots.load(ordering: .sequentiallyConsistent)) + [Self.workerSlots]
        for index in indexes {
            writing.store(true, ordering: .sequentiallyConsistent)
            defer { writing.store(false, ordering: .sequentiallyConsistent) }
            guard let batch = slots[index].withLock({ $0.take(maxBytes: Self.batchBytes) }) else { continue }
            wrote = true
            let written = writeAll(batch.bytes)
            if written < batch.bytes.count { slots[index].withLock { $0.lost(batch, written: written) } }
        }
        return wrote
    }

    /// Writes all of `bytes` (waiting as long as the reader makes it), or stops at the first failure; the bytes
    /// written.
    private func writeAll(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { buffer in
            var done = 0
            while done < buffer.count {
                let count = write(fd, buffer.baseAddress! + done, buffer.count - done)
                if count > 0 {
                    done += count
                } else if count < 0 && errno == EINTR {
                    continue
                } else if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                    // Someone else made the descriptor non-blocking: wait for room here instead.
                    var wanted = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&wanted, 1, -1)
                } else {
                    return done
                }
            }
            return done
        }
    }
}
