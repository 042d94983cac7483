import CCurl
import Foundation
import JSONKit

/// One curl easy handle and what its callbacks feed. curl calls back with `userdata` = this object (unretained;
/// the retain taken in `CurlLoop.start` keeps it alive while curl may call).
final class CurlTransfer {
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    // Response state, filled by the header callback.
    private(set) var status = 0
    private(set) var headers: [(name: String, value: String)] = []
    private var headDelivered = false
    /// Bytes of response head seen so far (every head, 1xx included), refused over `maxHeadBytes`.
    private var headBytes = 0
    private var headTooLarge = false
    /// More than any S3 answer carries; a backend sending endless headers is cut here instead of growing memory.
    static let maxHeadBytes = 256 * 1024

    /// What the body consumer wants done with a piece: keep it, hand it back later (pause), or end the transfer.
    enum DataVerdict {
        case accept
        case pause
        case abort
    }

    /// The response head, once (final status, not 1xx).
    var onHead: ((Int, [(name: String, value: String)]) -> Void)?
    /// Body bytes; `.pause` hands them back later (resume with `CurlLoop.resume`), `.abort` fails the transfer.
    var onData: ((UnsafeRawBufferPointer) -> DataVerdict)?
    /// Fills `buffer` with upload bytes: a count, 0 at the end, or nil to pause until resumed.
    var readBody: ((UnsafeMutableRawBufferPointer) -> Int?)?
    var onFinish: ((CurlOutcome) -> Void)?

    enum CurlOutcome {
        case completed
        case failed(CurlFailure)
    }

    init?() {
        guard let easy = curl_easy_init() else { return nil }
        self.easy = easy
    }

    deinit {
        curl_easy_cleanup(easy)
        if let headerList { curl_slist_free_all(headerList) }
    }

    struct Timeouts {
        var connectMillis: Int
        var totalMillis: Int
        var lowSpeedSeconds: Int
    }

    /// Sets method, URL, headers, timeouts and callbacks. `uploadLength` nil means no request body;
    /// -1 an upload of unknown length (chunked).
    func configure(method: String, url: String, headers: [(name: String, value: String)], uploadLength: Int64?, timeouts: Timeouts,
                   receiveBuffer: Int? = nil) {
        presignd_curl_easy_setopt_string(easy, CURLOPT_URL, url)
        presignd_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        presignd_curl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, timeouts.connectMillis)
        presignd_curl_easy_setopt_long(easy, CURLOPT_TIMEOUT_MS, timeouts.totalMillis)
        presignd_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_LIMIT, 1024)
        presignd_curl_easy_setopt_long(easy, CURLOPT_LOW_SPEED_TIME, timeouts.lowSpeedSeconds)
        presignd_curl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0)
        presignd_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, &errorBuffer)
        if let receiveBuffer { presignd_curl_easy_setopt_long(easy, CURLOPT_BUFFERSIZE, receiveBuffer) }
        let me = Unmanaged.passUnretained(self).toOpaque()
        presignd_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, me)
        presignd_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, me)
        presignd_curl_easy_setopt_pointer(easy, CURLOPT_READDATA, me)
        presignd_curl_easy_setopt_data_cb(easy, CURLOPT_HEADERFUNCTION) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            // Any other count than the one given makes curl fail the transfer (CURLE_WRITE_ERROR).
            return transfer.headerLine(UnsafeRawBufferPointer(start: buffer, count: size * count)) ? size * count : 0
        }
        presignd_curl_easy_setopt_data_cb(easy, CURLOPT_WRITEFUNCTION) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            let bytes = UnsafeRawBufferPointer(start: buffer, count: size * count)
            if !transfer.headDelivered { transfer.deliverHead() }
            guard let onData = transfer.onData else { return size * count }
            switch onData(bytes) {
            case .accept: return size * count
            case .pause: return presignd_curl_writefunc_pause()
            case .abort: return 0
            }
        }
        presignd_curl_easy_setopt_data_cb(easy, CURLOPT_READFUNCTION) { buffer, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            guard let readBody = transfer.readBody else { return 0 }
            guard let produced = readBody(UnsafeMutableRawBufferPointer(start: buffer, count: size * count)) else {
                return presignd_curl_readfunc_pause()
            }
            return produced
        }
        switch method {
        case "GET": break
        case "HEAD": presignd_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1)
        case "PUT":
            presignd_curl_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
            presignd_curl_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(uploadLength ?? 0))
        default:
            presignd_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
            if let uploadLength {
                presignd_curl_easy_setopt_long(easy, CURLOPT_UPLOAD, 1)
                presignd_curl_easy_setopt_off(easy, CURLOPT_INFILESIZE_LARGE, curl_off_t(uploadLength))
            }
        }
        var list: UnsafeMutablePointer<curl_slist>?
        for (name, value) in headers { list = curl_slist_append(list, "\(name): \(value)") }
        // No "Expect: 100-continue" round trip, and no default Accept header that nobody signed.
        list = curl_slist_append(list, "Expect:")
        list = curl_slist_append(list, "Accept:")
        if uploadLength == -1 { list = curl_slist_append(list, "Transfer-Encoding: chunked") }
        headerList = list
        presignd_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, list)
    }

    /// False when the heads are over `maxHeadBytes`: the transfer fails.
    private func headerLine(_ raw: UnsafeRawBufferPointer) -> Bool {
        headBytes += raw.count
        guard headBytes <= Self.maxHeadBytes else {
            headTooLarge = true
            return false
        }
        var line = Array(raw)
        while let last = line.last, last == 0x0A || last == 0x0D { line.removeLast() }
        if line.starts(with: Array("HTTP/".utf8)) {
            // A new status line (after 100 Continue or a redirect) starts a new head.
            let parts = line.split(separator: 0x20, maxSplits: 2)
            status = parts.count > 1 ? Int(String(decoding: parts[1], as: UTF8.self)) ?? 0 : 0
            headers.removeAll()
            return true
        }
        if line.isEmpty {
            if status >= 200 && !headDelivered { deliverHead() }
            return true
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return true }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        let value = String(decoding: ASCII.trimmed(line[(colon + 1)...]), as: UTF8.self)
        headers.append((name, value))  // repeated headers are kept, each as its own entry
        return true
    }

    private func deliverHead() {
        headDelivered = true
        onHead?(status, headers)
    }

    /// Called once by the loop, after curl is done with the handle.
    func finished(code: CURLcode) {
        let finish = onFinish
        onFinish = nil
        onData = nil
        readBody = nil
        onHead = nil
        if code == CURLE_OK {
            if !headDelivered { deliverHead() }
            finish?(.completed)
            return
        }
        let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        if headTooLarge { message = "response headers over \(Self.maxHeadBytes) bytes" }
        let kind: CurlFailure.Kind
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .unreachable
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_ABORTED_BY_CALLBACK: kind = .cancelled
        default: kind = .transport
        }
        finish?(.failed(CurlFailure(kind: kind, message: message, headersSent: headDelivered)))
    }
}

/// Why a transfer did not complete.
public struct CurlFailure: Error, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// Connection refused or name not resolved: 502.
        case unreachable
        /// Connect, total or low-speed timeout: 504.
        case timeout
        /// Stopped by presignd (the client went away).
        case cancelled
        /// Anything else on the wire (reset, bad response): 502.
        case transport
    }

    public let kind: Kind
    public let message: String
    /// Whether the response head had already arrived.
    public let headersSent: Bool

    public init(kind: Kind, message: String, headersSent: Bool) {
        self.kind = kind
        self.message = message
        self.headersSent = headersSent
    }
}
