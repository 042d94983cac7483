import CUV
import Foundation
import XCTest
@testable import RedisClient
import UVLoop

#if canImport(Glibc)
import Glibc
#endif

/// A `redis-server` of its own on a free loopback port, for one test.
final class RedisServerProcess {
    let port: Int
    let extraArguments: [String]
    private var process: Process?

    init(extraArguments: [String] = []) {
        port = Self.freePort()
        self.extraArguments = extraArguments
    }

    var pid: pid_t { process?.processIdentifier ?? 0 }

    /// Starts the server and waits until it accepts connections; false if it did not within 5 s.
    func start() -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        process.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--daemonize", "no", "--loglevel", "warning"] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        self.process = process
        for _ in 0..<500 {
            if Self.accepts(port: port) { return true }
            if !process.isRunning { return false }
            usleep(10_000)
        }
        return false
    }

    func stop() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func signal(_ number: Int32) { kill(pid, number) }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length)
                return getsockname(fd, pointer, &length)
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A private libuv loop (worker index 254, which no test server uses) driven by the test's thread.
final class TestLoop {
    let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
    let context: LoopContext
    /// Wakes `uv_run` every 5 ms while a test waits, so waits end even when nothing else is active.
    private let ticker = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)

    init() {
        uv_loop_init(loop)
        context = LoopContext(index: 254, rawLoop: UnsafeMutableRawPointer(loop))
        uv_timer_init(loop, ticker)
        uv_timer_start(ticker, { _ in }, 5, 5)
    }

    var eventLoop: EventLoop { EventLoop(context) }

    /// The loop's clock in milliseconds, updated now.
    var now: UInt64 {
        uv_update_time(loop)
        return uv_now(loop)
    }

    /// Runs the loop until `condition` holds or `millis` pass; whether it held.
    @discardableResult
    func run(until condition: () -> Bool, millis: UInt64 = 5000) -> Bool {
        let end = now + millis
        while !condition() {
            if now >= end { return false }
            uv_run(loop, UV_RUN_ONCE)
        }
        return true
    }

    func sleep(millis: UInt64) {
        let end = now + millis
        run(until: { now >= end }, millis: millis + 1000)
    }

    /// Starts an operation and runs the loop until it answers (XCTFail after 5 s).
    func wait<T>(file: StaticString = #filePath, line: UInt = #line, _ body: (@escaping (T) -> Void) -> Void) -> T? {
        var result: T?
        body { result = $0 }
        if !run(until: { result != nil }) { XCTFail("no answer within 5 s", file: file, line: line) }
        return result
    }

    /// Runs the shutdown hooks (closing connections), lets the loop finish and frees it.
    func close() {
        context.runShutdownHooks()
        uv_timer_stop(ticker)
        ticker.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { uv_close($0, nil) }
        uv_run(loop, UV_RUN_DEFAULT)
        XCTAssertEqual(uv_loop_close(loop), 0, "every handle closed")
        ticker.deallocate()
        loop.deallocate()
    }
}

func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
