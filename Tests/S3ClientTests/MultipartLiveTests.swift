import CUV
import Crypto
import Foundation
import S3Client
import S3Signing
import Testing
import UVLoop

/// The multipart operations end to end against a real S3 server, on a real libuv loop driven by this test (the
/// worker's loop, without the HTTP server around it). Runs when PRESIGND_TEST_S3_ENDPOINT names a SeaweedFS 4.48
/// started by scripts/seaweedfs.sh (its fixed test credentials), for example:
///   scripts/seaweedfs.sh start /tmp/weed 18433
///   PRESIGND_TEST_S3_ENDPOINT=http://127.0.0.1:18433 swift test --skip-build --filter MultipartLiveTests
/// UploadPart goes both ways: signed by the connection (header auth) and presigned, sent with the curl tool.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["PRESIGND_TEST_S3_ENDPOINT"] != nil))
struct MultipartLiveTests {
    static var endpoint: String { ProcessInfo.processInfo.environment["PRESIGND_TEST_S3_ENDPOINT"] ?? "" }

    /// A private loop (worker index 255, which no test server uses) and a connection on it. `wait` runs the loop
    /// until the operation started by `body` completes.
    final class Harness {
        let loop = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let context: LoopContext
        let connection: S3fmAuthConnection
        let presigner: S3Presigner

        init(_ signature: SignatureVersion) throws {
            uv_loop_init(loop)
            context = LoopContext(index: 255, rawLoop: UnsafeMutableRawPointer(loop))
            presigner = S3Presigner(.init(
                endpoint: try S3Endpoint(parsing: MultipartLiveTests.endpoint), region: "us-east-1", addressing: .path,
                signature: signature, credentials: Credentials(accessKeyId: "AKIDPRESIGNTEST", secretAccessKey: "presign-test-secret-0123456789abcdef")))
            connection = S3fmAuthConnection(presigner: presigner, timeouts: .init(connect: 5, total: 60, lowSpeed: 30), on: EventLoop(context))
        }

        var now: SigningTime { SigningTime(epochSeconds: Int64(Date().timeIntervalSince1970)) }

        func wait<T>(_ body: (@escaping (T) -> Void) -> Void) -> T {
            var result: T?
            body { result = $0 }
            while result == nil { uv_run(loop, UV_RUN_ONCE) }
            return result!
        }

        func close() {
            #expect(connection.activeTransfers == 0)
            context.runShutdownHooks()
            uv_run(loop, UV_RUN_DEFAULT)
            uv_loop_close(loop)
            loop.deallocate()
        }

        /// UploadPart signed by the connection; the ETag it answered.
        func uploadPart(_ bucket: String, _ key: String, _ uploadId: String, _ number: Int, _ bytes: [UInt8],
                        headers: [(name: String, value: String)] = []) -> Result<String, S3Error> {
            let call = S3fmAuthConnection.Call(.put, bucket: bucket, key: key, query: [("partNumber", String(number)), ("uploadId", uploadId)], headers: headers)
            return wait { done in connection.fetch(call, body: bytes, now: now) { done($0.map { $0.0.value("ETag") ?? "" }) } }
        }
    }

    static func sha256(_ bytes: [UInt8]) -> String { Data(SHA256.hash(data: bytes)).base64EncodedString() }

    /// `curl -X PUT` of `bytes` to a presigned URL with its headers: the status and the ETag header.
    static func curlPut(_ url: S3Presigner.PresignedURL, _ bytes: [UInt8], to changed: String? = nil) throws -> (Int, String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("presignd-part-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments = ["-sS", "-o", "/dev/null", "-D", "-", "-X", "PUT", "--data-binary", "@" + file.path, "-H", "Content-Type:", "-H", "Expect:"]
        for header in url.headers where header.name != "Content-Length" { arguments += ["-H", "\(header.name): \(header.value)"] }
        process.arguments = arguments + [changed ?? url.url]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = out.split(separator: "\r\n")
        let status = lines.first.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        let etag = lines.first { $0.lowercased().hasPrefix("etag:") }.map { String($0.dropFirst(5)).trimmingCharacters(in: .whitespaces) } ?? ""
        return (status, etag)
    }

    @Test(arguments: [SignatureVersion.v4, .v2])
    func threePartsWithChecksumsCompleteAndReadBack(_ signature: SignatureVersion) throws {
        let s3 = try Harness(signature)
        defer { s3.close() }
        let bucket = "mp-live-\(signature.rawValue)"
        let created = s3.wait { done in s3.connection.createBucket(bucket, now: s3.now) { done($0) } }
        if case .failure(let error) = created, case .s3(_, let document) = error, document.code == "BucketAlreadyExists" || document.code == "BucketAlreadyOwnedByYou" {
        } else {
            _ = try created.get()
        }
        let key = "videos/a b&c.bin"
        let upload = try s3.wait { done in
            s3.connection.createMultipartUpload(bucket, key: key, headers: [("Content-Type", "video/mp4"), ("x-amz-checksum-algorithm", "SHA256")], now: s3.now) { done($0) }
        }.get()
        #expect(upload.bucket == bucket && upload.key == key && !upload.uploadId.isEmpty)
        let parts: [[UInt8]] = [Array(repeating: 1, count: 5 * 1024 * 1024), Array(repeating: 2, count: 5 * 1024 * 1024), Array(repeating: 3, count: 1000)]

        // Part 1 signed by the connection, parts 2 and 3 presigned (with Content-Length and the checksum signed).
        let etag1 = try s3.uploadPart(bucket, key, upload.uploadId, 1, parts[0], headers: [("x-amz-checksum-sha256", Self.sha256(parts[0]))]).get()
        var etags = [etag1]
        for number in 2...3 {
            let presigned = try s3.presigner.presign(.init(
                operation: .put, bucket: bucket, key: key, expiry: .after(seconds: 900),
                headers: [("Content-Length", String(parts[number - 1].count)), ("x-amz-checksum-sha256", Self.sha256(parts[number - 1]))],
                query: [("partNumber", String(number)), ("uploadId", upload.uploadId)]), now: s3.now)
            let (status, etag) = try Self.curlPut(presigned, parts[number - 1])
            #expect(status == 200)
            etags.append(etag)
        }
        #expect(etags.allSatisfy { $0.hasPrefix("\"") && $0.hasSuffix("\"") && $0.count == 34 })

        let listed = try s3.wait { done in s3.connection.listParts(bucket, key: key, uploadId: upload.uploadId, now: s3.now) { done($0) } }.get()
        #expect(listed.map(\.number) == [1, 2, 3])
        #expect(listed.map(\.etag) == etags)
        #expect(listed.map(\.size) == [5_242_880, 5_242_880, 1000])

        let inProgress = try s3.wait { done in s3.connection.listMultipartUploads(bucket, now: s3.now) { done($0) } }.get()
        #expect(inProgress.contains(MultipartUploadSummary(key: key, uploadId: upload.uploadId)))

        // A wrong ETag: S3's own error, and the upload is still there.
        let wrong = s3.wait { done in
            s3.connection.completeMultipartUpload(bucket, key: key, uploadId: upload.uploadId, parts: [CompletedPart(number: 1, etag: "\"00\"")], objectSize: nil, now: s3.now) { done($0) }
        }
        guard case .failure(.s3(let status, let document)) = wrong else { Issue.record("\(wrong)"); return }
        #expect(status == 400 && document.code == "InvalidPart")

        let completedParts = (1...3).reversed().map {
            CompletedPart(number: $0, etag: etags[$0 - 1], checksumAlgorithm: "SHA256", checksum: Self.sha256(parts[$0 - 1]))
        }
        let total = Int64(parts.map(\.count).reduce(0, +))
        let done = try s3.wait { done in
            s3.connection.completeMultipartUpload(bucket, key: key, uploadId: upload.uploadId, parts: completedParts, objectSize: total, now: s3.now) { done($0) }
        }.get()
        #expect(done.bucket == bucket && done.key == key && done.etag.hasSuffix("-3\""))

        let (head, body) = try s3.wait { done in s3.connection.fetch(.init(.get, bucket: bucket, key: key), now: s3.now) { done($0) } }.get()
        #expect(head.status == 200 && body == parts.flatMap { $0 })
        let after = try s3.wait { done in s3.connection.listMultipartUploads(bucket, now: s3.now) { done($0) } }.get()
        #expect(!after.contains { $0.uploadId == upload.uploadId })
    }

    /// A presigned part URL is bound to its part number and checksum: SeaweedFS refuses a changed one.
    @Test(arguments: [SignatureVersion.v4, .v2])
    func presignedPartsAreBound(_ signature: SignatureVersion) throws {
        let s3 = try Harness(signature)
        defer { s3.close() }
        let bucket = "mp-live-\(signature.rawValue)"
        _ = s3.wait { done in s3.connection.createBucket(bucket, now: s3.now) { done($0) } }
        let upload = try s3.wait { done in s3.connection.createMultipartUpload(bucket, key: "bound", headers: [], now: s3.now) { done($0) } }.get()
        let bytes = Array("hello".utf8)
        let presigned = try s3.presigner.presign(.init(
            operation: .put, bucket: bucket, key: "bound", expiry: .after(seconds: 900),
            headers: [("x-amz-checksum-sha256", Self.sha256(bytes))], query: [("partNumber", "1"), ("uploadId", upload.uploadId)]), now: s3.now)
        let moved = presigned.url.replacingOccurrences(of: "partNumber=1", with: "partNumber=2")
        #expect(moved != presigned.url)
        let (movedStatus, _) = try Self.curlPut(presigned, bytes, to: moved)
        #expect(movedStatus == 403)
        let (badSumStatus, _) = try Self.curlPut(presigned, Array("jello".utf8))
        #expect(badSumStatus == 400)
        let (okStatus, _) = try Self.curlPut(presigned, bytes)
        #expect(okStatus == 200)
        let aborted = try s3.wait { done in s3.connection.abortMultipartUpload(bucket, key: "bound", uploadId: upload.uploadId, now: s3.now) { done($0) } }.get()
        #expect(aborted.status == 204)
        let after = try s3.wait { done in s3.connection.listMultipartUploads(bucket, now: s3.now) { done($0) } }.get()
        #expect(!after.contains { $0.uploadId == upload.uploadId })
        let gone = s3.wait { done in s3.connection.listParts(bucket, key: "bound", uploadId: upload.uploadId, now: s3.now) { done($0) } }
        guard case .failure(.s3(404, let document)) = gone else { Issue.record("\(gone)"); return }
        #expect(document.code == "NoSuchUpload")
    }

    /// ListParts follows NextPartNumberMarker: 1001 one-byte parts come back in two pages (S3's page is 1000).
    @Test func listPartsFollowsPages() throws {
        let s3 = try Harness(.v4)
        defer { s3.close() }
        let bucket = "mp-live-v4"
        _ = s3.wait { done in s3.connection.createBucket(bucket, now: s3.now) { done($0) } }
        let upload = try s3.wait { done in s3.connection.createMultipartUpload(bucket, key: "many", headers: [], now: s3.now) { done($0) } }.get()
        for number in 1...1001 { _ = try s3.uploadPart(bucket, "many", upload.uploadId, number, [UInt8(number % 256)]).get() }
        let listed = try s3.wait { done in s3.connection.listParts(bucket, key: "many", uploadId: upload.uploadId, now: s3.now) { done($0) } }.get()
        #expect(listed.map(\.number) == Array(1...1001))
        #expect(listed.allSatisfy { $0.size == 1 })
        _ = try s3.wait { done in s3.connection.abortMultipartUpload(bucket, key: "many", uploadId: upload.uploadId, now: s3.now) { done($0) } }.get()
    }
}
