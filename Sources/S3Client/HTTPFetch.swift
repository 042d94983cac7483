import CCurl
import JSONKit
import UVLoop

/// A small HTTP client on the worker's curl loop, for documents presignd fetches for itself: a JWKS, STS answers,
/// container credentials. Bounded in every way a remote server could stretch it: the body (over `maxBodyBytes` the
/// fetch fails), the time (connect and total), the protocols (http and https only, no redirects). The answer comes
/// on the loop thread, once. Callers fetch through an `HTTPFetching` (this is `CurlFetch`'s), so tests can pass theirs.
public enum HTTPFetch {
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]?
        public var maxBodyBytes: Int
        public var connectTimeoutMillis: Int
        public var totalTimeoutMillis: Int

        public init(
            method: String = "GET", url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
            maxBodyBytes: Int = 64 * 1024, connectTimeoutMillis: Int = 2000, totalTimeoutMillis: Int = 5000
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.maxBodyBytes = maxBodyBytes
            self.connectTimeoutMillis = connectTimeoutMillis
            self.totalTimeoutMillis = totalTimeoutMillis
        }
    }

    public struct Response: Sendable {
        public let status: Int
        public let headers: [(name: String, value: String)]
        public let body: [UInt8]

        public init(status: Int, headers: [(name: String, value: String)], body: [UInt8]) {
            self.status = status
            self.headers = headers
            self.body = body
        }

        /// The first header of that name, any case.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.caseInsensitiveEquals(name) }?.value
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// The transfer failed (refused, unresolvable, reset, timed out): curl's message.
        case transfer(CurlFailure)
        /// The body was longer than allowed.
        case tooLarge(Int)
        /// Not an http(s) URL.
        case badURL

        public var message: String {
            switch self {
            case .transfer(let failure): return "\(failure.kind.rawValue): \(failure.message)"
            case .tooLarge(let limit): return "the answer is over \(limit) bytes"
            case .badURL: return "only http:// and https:// URLs are fetched"
            }
        }
    }

    /// Fetches `request` on `loop` (call on that loop's thread).
    public static func fetch(_ request: Request, on loop: EventLoop, _ done: @escaping (Result<Response, Failure>) -> Void) {
        let lower = request.url.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else { return done(.failure(.badURL)) }
        guard let transfer = CurlTransfer() else {
            return done(.failure(.transfer(CurlFailure(kind: .transport, message: "curl_easy_init failed", headersSent: false))))
        }
        let timeouts = CurlTransfer.Timeouts(
            connectMillis: request.connectTimeoutMillis, totalMillis: request.totalTimeoutMillis,
            lowSpeedSeconds: max(1, request.totalTimeoutMillis / 1000))
        let upload = request.body.map { Int64($0.count) }
        transfer.configure(method: request.method, url: request.url, headers: request.headers, uploadLength: upload, timeouts: timeouts)
        presignd_curl_easy_setopt_string(transfer.easy, CURLOPT_PROTOCOLS_STR, "http,https")
        presignd_curl_easy_setopt_string(transfer.easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        var body: [UInt8] = []
        var tooLarge = false
        var status = 0
        var headers: [(name: String, value: String)] = []
        var sent = 0
        if let outgoing = request.body {
            transfer.readBody = { buffer in
                let count = min(buffer.count, outgoing.count - sent)
                if count > 0 {
                    outgoing.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[sent..<(sent + count)])) }
                    sent += count
                }
                return count
            }
        }
        transfer.onHead = { code, fields in
            status = code
            headers = fields
        }
        transfer.onData = { bytes in
            guard body.count + bytes.count <= request.maxBodyBytes else {
                tooLarge = true
                return .abort
            }
            body.append(contentsOf: bytes)
            return .accept
        }
        transfer.onFinish = { outcome in
            switch outcome {
            case .completed: done(.success(Response(status: status, headers: headers, body: body)))
            case .failed(let failure): done(.failure(tooLarge ? .tooLarge(request.maxBodyBytes) : .transfer(failure)))
            }
        }
        CurlLoop.on(loop).start(transfer)
    }
}
