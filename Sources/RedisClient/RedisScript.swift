import Crypto
import JSONKit
/// A Lua script and its SHA-1, the name EVALSHA runs it by.
public struct RedisScript: Sendable, Equatable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        var hex: [UInt8] = []
        for byte in Insecure.SHA1.hash(data: Array(source.utf8)) { ASCII.appendHex(byte, to: &hex) }
        sha1 = String(decoding: hex, as: UTF8.self)
    }
}

extension RedisConnection {
    /// Runs `script` with EVALSHA; when the server does not have it (a NOSCRIPT error reply, after a restart or
    /// SCRIPT FLUSH), loads it with SCRIPT LOAD and runs EVALSHA once more. The keys must hash to one slot in a cluster.
    public func evalScript(_ script: RedisScript, keys: [[UInt8]], args: [[UInt8]],
                           _ done: @escaping (Result<RedisReply, RedisError>) -> Void) {
        let command = [Array("EVALSHA".utf8), Array(script.sha1.utf8), Array(String(keys.count).utf8)] + keys + args
        send(command) { [weak self] result in
            guard case .success(.error(let message)) = result, message.hasPrefix("NOSCRIPT"), let self else {
                done(result)
                return
            }
            self.send([Array("SCRIPT".utf8), Array("LOAD".utf8), Array(script.source.utf8)]) { [weak self] loaded in
                switch loaded {
                case .success(.string(let sha)) where sha == Array(script.sha1.utf8):
                    guard let self else { return done(.failure(.disconnected)) }
                    self.send(command, done)
                case .success(.error):
                    done(loaded)
                case .success(let other):
                    done(.failure(.protocolError("SCRIPT LOAD answered \(other), not \(script.sha1)")))
                case .failure:
                    done(loaded)
                }
            }
        }
    }
}
