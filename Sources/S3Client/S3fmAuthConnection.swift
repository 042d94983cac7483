import CCurl
import Foundation
import JSONKit
import UVLoop
import S3Signing

/// A failed S3 call: S3's own error (status and document), or a transport failure.
public enum S3Error: Error, Sendable, Equatable {
    case s3(status: Int, document: S3ErrorDocument)
    case transport(CurlFailure)
    /// The response could not be read (malformed XML, a body over the buffering cap).
    case badResponse(String)
    /// Refused before sending (invalid bucket or key, say).
    case invalid(String)
}

/// The response head of an S3 call. Repeated headers are kept: `values(_:)` returns all of them.
public struct S3ResponseHead: Sendable {
    public let status: Int
    public let headers: [(name: String, value: String)]

    public init(status: Int, headers: [(name: String, value: String)]) {
        self.status = status
        self.headers = headers
    }

    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    public func value(_ name: String) -> String? { values(name).first }
}

/// A running transfer: cancel it, or resume it after a pause (download consumer drained; upload bytes arrived).
public final class S3Transfer {
    let control: any S3WireControl

    init(_ control: any S3WireControl) { self.control = control }

    public func cancel() { control.cancel() }
    public func resume() { control.resume() }
    /// Resumes it on the loop's next turn, after the work already waiting (never from inside the caller's code).
    public func resumeNextTurn() { control.resumeNextTurn() }
}

/// The seed's `S3fmAuthConnection`, rebuilt: every operation as a signed request (SigV2 S3fm/AWS or SigV4, from the
/// backend's configuration) sent with libcurl's multi interface on the caller's libuv loop (or another
/// `S3Transport`: a test's in-memory S3). Nothing blocks; bodies stream both ways with backpressure; errors are
/// typed. Use it on the loop thread it was made for.
public final class S3fmAuthConnection {
    public struct Timeouts: Sendable {
        public var connect: Double
        public var total: Double
        public var lowSpeed: Double

        public init(connect: Double = 5, total: Double = 300, lowSpeed: Double = 30) {
            self.connect = connect
            self.total = total
            self.lowSpeed = lowSpeed
        }
    }

    public let presigner: S3Presigner
    public let timeouts: Timeouts
    let transport: any S3Transport
    /// Error and small-document bodies are buffered up to this size.
    static let maxBufferedBody = 16 * 1024 * 1024

    /// Uses `eventLoop`'s curl loop (made on first use, closed and forgotten when the worker shuts down). Keep a
    /// connection no longer than its loop runs; `isUsable` says whether it still does.
    public init(presigner: S3Presigner, timeouts: Timeouts = .init(), on eventLoop: EventLoop) {
        self.presigner = presigner
        self.timeouts = timeouts
        transport = CurlLoop.on(eventLoop)
    }

    /// Sends every call through `transport` (made for the loop this connection is used on).
    public init(presigner: S3Presigner, timeouts: Timeouts = .init(), transport: any S3Transport) {
        self.presigner = presigner
        self.timeouts = timeouts
        self.transport = transport
    }

    /// False once the worker that owns this connection's loop has shut down: make a new connection.
    public var isUsable: Bool { transport.isUsable }

    /// Transfers in flight on this loop (for leak checks in tests).
    public var activeTransfers: Int { transport.activeCount }

    public struct Call: Sendable {
        public var operation: S3Operation
        public var bucket: String
        public var key: String
        public var query: [(name: String, value: String)]
        public var headers: [(name: String, value: String)]
        /// The HTTP method when it is not the operation's (POST for the multipart create and complete).
        public var method: String?
        /// The transport's receive buffer in bytes (curl's default when nil): larger reads for a streamed body.
        public var receiveBuffer: Int?

        public init(
            _ operation: S3Operation, bucket: String = "", key: String = "", query: [(name: String, value: String)] = [],
            headers: [(name: String, value: String)] = [], method: String? = nil
        ) {
            self.operation = operation
            self.bucket = bucket
            self.key = key
            self.query = query
            self.headers = headers
            self.method = method
        }
    }

    /// Where an upload's bytes come from: `read` fills the buffer and returns a count, 0 at the end, or nil when
    /// nothing is ready yet (the transfer pauses; call `resume()` on the S3Transfer when there is more).
    public struct Upload {
        public var length: Int64?
        public var read: (UnsafeMutableRawBufferPointer) -> Int?

        public init(length: Int64?, read: @escaping (UnsafeMutableRawBufferPointer) -> Int?) {
            self.length = length
            self.read = read
        }

        public static func bytes(_ body: [UInt8]) -> Upload {
            var offset = 0
            return Upload(length: Int64(body.count)) { buffer in
                let count = min(buffer.count, body.count - offset)
                if count > 0 {
                    body.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: count) }
                }
                offset += count
                return count
            }
        }
    }

    /// Sends a call and streams the answer. `onHead` runs for a successful status (< 300); then `onBody` for each
    /// piece (return false to pause; `resume()` continues); `completion` once at the end. An S3 error status is
    /// buffered and parsed into `.s3(status:document:)`.
    @discardableResult
    public func stream(
        _ call: Call, upload: Upload? = nil, now: SigningTime,
        onHead: @escaping (S3ResponseHead) -> Void,
        onBody: @escaping (UnsafeRawBufferPointer) -> Bool,
        completion: @escaping (Result<Void, S3Error>) -> Void
    ) -> S3Transfer? {
        start(call, upload: upload, now: now, onHead: onHead, onBody: { onBody($0) ? .accept : .pause }, completion: completion)
    }

    /// What `start`'s body consumer decides for each piece.
    enum BodyVerdict {
        case accept
        case pause
        /// Stop reading and fail the call with this error (a document over its cap).
        case abort(S3Error)
    }

    /// Error documents are read up to this size; S3's are under 1 KiB. A longer one ends the transfer.
    static let maxErrorBody = 64 * 1024

    @discardableResult
    func start(
        _ call: Call, upload: Upload?, now: SigningTime,
        onHead: @escaping (S3ResponseHead) -> Void,
        onBody: @escaping (UnsafeRawBufferPointer) -> BodyVerdict,
        completion: @escaping (Result<Void, S3Error>) -> Void
    ) -> S3Transfer? {
        let signed: SignedRequest
        do {
            signed = try presigner.signRequest(
                call.operation, bucket: call.bucket, key: call.key, query: call.query, headers: call.headers,
                payloadHash: upload == nil ? S3Presigner.emptyPayload : S3Presigner.unsignedPayload, method: call.method,
                now: now)
        } catch {
            completion(.failure(.invalid(error.message)))
            return nil
        }
        let uploadLength: Int64? = upload.map { $0.length ?? -1 } ?? (signed.method == "PUT" ? 0 : nil)
        var errorBody: [UInt8]?
        var status = 0
        var abortedWith: S3Error?
        let handlers = S3WireHandlers(
            onHead: { code, headers in
                status = code
                if code >= 300 {
                    errorBody = []
                } else {
                    onHead(S3ResponseHead(status: code, headers: headers))
                }
            },
            onData: { bytes in
                if errorBody != nil {
                    guard errorBody!.count + bytes.count <= Self.maxErrorBody else {
                        // An endless error body would hold the call open until its timeout: answer with what we have.
                        abortedWith = Self.s3Error(status: status, body: [])
                        return .abort
                    }
                    errorBody! += bytes
                    return .accept
                }
                switch onBody(bytes) {
                case .accept: return .accept
                case .pause: return .pause
                case .abort(let error):
                    abortedWith = error
                    return .abort
                }
            },
            readBody: upload?.read,
            onFinish: { outcome in
                if let abortedWith {
                    completion(.failure(abortedWith))
                    return
                }
                switch outcome {
                case .success:
                    if let body = errorBody {
                        completion(.failure(Self.s3Error(status: status, body: body)))
                    } else {
                        completion(.success(()))
                    }
                case .failure(let failure):
                    completion(.failure(.transport(failure)))
                }
            })
        let request = S3WireRequest(
            method: signed.method, url: signed.url, headers: signed.headers, uploadLength: uploadLength, timeouts: timeouts,
            receiveBuffer: call.receiveBuffer)
        do throws(S3Error) {
            return S3Transfer(try transport.send(request, handlers))
        } catch {
            completion(.failure(error))
            return nil
        }
    }

    static func s3Error(status: Int, body: [UInt8]) -> S3Error {
        if let document = try? S3ErrorDocument(xml: body) { return .s3(status: status, document: document) }
        // HEAD errors and some proxies send no body: name the status.
        let code: String
        switch status {
        case 404: code = "NotFound"
        case 403: code = "AccessDenied"
        case 409: code = "Conflict"
        default: code = "HTTP\(status)"
        }
        return .s3(status: status, document: S3ErrorDocument(code: code, message: "the backend answered \(status) with no error document"))
    }

    /// Sends a call whose answer is small (a document, or nothing) and returns it whole.
    public func fetch(
        _ call: Call, body: [UInt8]? = nil, now: SigningTime,
        completion: @escaping (Result<(S3ResponseHead, [UInt8]), S3Error>) -> Void
    ) {
        var head: S3ResponseHead?
        var buffer: [UInt8] = []
        start(
            call, upload: body.map(Upload.bytes), now: now,
            onHead: { head = $0 },
            onBody: { bytes in
                // Over the cap the transfer stops at once instead of reading (and dropping) an endless body.
                guard buffer.count + bytes.count <= Self.maxBufferedBody else {
                    buffer = []
                    return .abort(.badResponse("response over \(Self.maxBufferedBody) bytes"))
                }
                buffer += bytes
                return .accept
            },
            completion: { result in
                switch result {
                case .success:
                    completion(.success((head ?? S3ResponseHead(status: 200, headers: []), buffer)))
                case .failure(let error):
                    completion(.failure(error))
                }
            })
    }
}
