import Foundation
internal import CUV
import JSONKit

/// Who a connection's peer is, the request ids it may carry, and the access-log line each exchange leaves.
extension Connection {
    static func peerName(_ tcp: UnsafeMutablePointer<uv_tcp_t>) -> String {
        var storage = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { uv_tcp_getpeername(tcp, $0, &length) }
        }
        guard rc == 0 else { return "" }
        var text = [CChar](repeating: 0, count: 64)
        let family = Int32(storage.ss_family)
        let named = withUnsafePointer(to: &storage) { pointer in
            family == AF_INET6
                ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { uv_ip6_name($0, &text, 64) }
                : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { uv_ip4_name($0, &text, 64) }
        }
        guard named == 0 else { return "" }
        return String(cString: text)
    }

    static func validRequestId(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") })
        else { return nil }
        return value
    }

    /// Called by `ResponseContext` once the whole response has been queued.
    func finished(status: Int, bytes: Int, keepAlive: Bool) {
        if let head = core.head {
            accessLog(method: head.method.name, path: String(head.path), status: status, bytes: bytes,
                      requestId: context?.requestId ?? "-")
        }
        context = nil
        clientRequestId = nil
        let now = uv_now(worker.loop)
        if !outputBlocked && queuedBytes > Self.maxQueuedOutput {
            outputBlocked = true
            perform(core.setOutputBlocked(true, now: now))
        }
        perform(core.responded(keepAlive: keepAlive, now: now))
    }

    func accessLog(method: String, path: String, status: Int, bytes: Int, requestId: String) {
        guard worker.server.configuration.accessLog else { return }
        let micros = (uv_hrtime() - started) / 1000
        var line = JSONWriter(capacity: 160)
        line.beginObject()
        line.string("method", method)
        line.string("path", path)
        line.integer("status", status)
        line.integer("bytes", bytes)
        line.integer("micros", micros)
        line.string("request_id", requestId)
        if let clientRequestId { line.string("client_request_id", clientRequestId) }
        line.endObject()
        worker.log(line.text)
    }
}
