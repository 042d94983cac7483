import Foundation
import XCTest
@testable import RedisClient
import UVLoop
import TestSupport

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

    static func accepts(port: Int) -> Bool { Loopback.accepts(port: port) }

    static func freePort() -> Int { Loopback.freePort() }
}

extension TestLoop {
    /// Starts an operation and runs the loop until it answers (XCTFail after 10 s).
    func wait<T>(file: StaticString = #filePath, line: UInt = #line, _ body: (@escaping (T) -> Void) -> Void) -> T? {
        var result: T?
        body { result = $0 }
        if !run(until: { result != nil }) { XCTFail("no answer within 10 s", file: file, line: line) }
        return result
    }
}

func command(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
