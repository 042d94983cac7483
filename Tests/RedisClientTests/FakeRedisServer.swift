import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A hostile Redis on a loopback port, on threads of its own: it reads each command (a RESP array of bulk strings),
/// asks `answer` what to do, and records what it saw. Only for peers that lie; real behaviour is tested against
/// redis-server.
final class FakeRedisServer: @unchecked Sendable {
    enum Answer {
        /// These bytes, at once.
        case bytes([UInt8])
        /// `header`, then `unit` every `intervalMillis` until the client closes (or `maxUnits` are sent).
        case trickle(header: [UInt8], unit: [UInt8], intervalMillis: Int32, maxUnits: Int = 1_000_000)
    }

    /// One accepted connection, as the server saw it.
    struct Seen: Equatable {
        var commands: [[String]] = []
        /// Trickled units sent before the client was seen to close (nil: no trickle, or still open).
        var unitsBeforeClose: Int?
        var closedByClient = false
    }

    let port: Int
    private let listener: Int32
    private let answer: @Sendable (_ connection: Int, _ command: [String]) -> Answer
    private let lock = NSLock()
    private var seenConnections: [Seen] = []
    private var stopped = false

    init(answer: @escaping @Sendable (_ connection: Int, _ command: [String]) -> Answer) {
        self.answer = answer
        (listener, port) = Loopback.listener(backlog: 16)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    var seen: [Seen] { lock.withLock { seenConnections } }

    func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            let index = lock.withLock {
                seenConnections.append(Seen())
                return seenConnections.count - 1
            }
            Thread.detachNewThread { [self] in serve(fd, index) }
        }
    }

    private func serve(_ fd: Int32, _ index: Int) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while !isStopped {
            if let (command, used) = Self.command(in: buffer) {
                buffer.removeFirst(used)
                lock.withLock { seenConnections[index].commands.append(command) }
                guard perform(answer(index, command), fd, index) else { return }
                continue
            }
            let count = recv(fd, &chunk, chunk.count, 0)
            guard count > 0 else {
                lock.withLock { seenConnections[index].closedByClient = true }
                return
            }
            buffer += chunk[..<count]
        }
    }

    /// Carries out one answer; false once the client has gone.
    private func perform(_ answer: Answer, _ fd: Int32, _ index: Int) -> Bool {
        switch answer {
        case .bytes(let bytes):
            return sendAll(fd, bytes)
        case .trickle(let header, let unit, let interval, let maxUnits):
            guard sendAll(fd, header) else { return false }
            var units = 0
            while units < maxUnits && !isStopped {
                if Self.clientClosed(fd, waitMillis: interval) { break }
                guard sendAll(fd, unit) else { break }
                units += 1
            }
            lock.withLock {
                seenConnections[index].unitsBeforeClose = units
                seenConnections[index].closedByClient = true
            }
            return false
        }
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    /// Waits up to `waitMillis` for the client to close (EOF or reset); anything else it sends is discarded.
    private static func clientClosed(_ fd: Int32, waitMillis: Int32) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, waitMillis) > 0 else { return false }
        var scratch = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &scratch, scratch.count, Int32(MSG_DONTWAIT)) <= 0
    }

    /// The first whole command in `buffer` (an array of bulk strings) and the bytes it takes.
    static func command(in buffer: [UInt8]) -> ([String], Int)? {
        var index = 0
        func line() -> Int? {
            guard let end = buffer[index...].firstIndex(of: 13), end + 1 < buffer.count else { return nil }
            let value = Int(String(decoding: buffer[(index + 1)..<end], as: UTF8.self))
            index = end + 2
            return value
        }
        guard !buffer.isEmpty, let count = line() else { return nil }
        var words: [String] = []
        for _ in 0..<count {
            guard index < buffer.count, let length = line(), index + length + 2 <= buffer.count else { return nil }
            words.append(String(decoding: buffer[index..<(index + length)], as: UTF8.self))
            index += length + 2
        }
        return (words, index)
    }
}
