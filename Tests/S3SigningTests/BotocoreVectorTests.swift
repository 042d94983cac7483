import Foundation
import S3Signing
import Testing

/// 240 presigned URLs made by botocore 1.43.11 with a frozen clock: scheme, host, path and every decoded query
/// parameter (signature included) must match.
struct BotocoreVectorTests {
    struct Vector: Decodable, CustomTestStringConvertible {
        let id: Int
        let sig: String
        let method: String
        let bucket: String
        let key: String
        let endpoint: String
        let region: String
        let addressing: String
        let access: String
        let secret: String
        let expires: Int64
        let now: String
        let headers: [String: String]?
        let query: [String: String]?
        let session_token: String?
        let expected_url: String

        var testDescription: String { "#\(id) \(sig) \(method) \(addressing) \(endpoint)" }
    }

    static let vectors: [Vector] = {
        guard let text = try? Fixtures.text("presign-botocore.jsonl") else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(Vector.self, from: Data($0.utf8)) }
    }()

    /// Splits a URL into scheme, host, path and a sorted list of decoded query pairs.
    static func parts(_ url: String) -> (String, String, String, [String]) {
        let schemeEnd = url.range(of: "://")!
        let scheme = String(url[..<schemeEnd.lowerBound])
        let rest = url[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/")!
        let host = String(rest[..<slash])
        let pathAndQuery = rest[slash...]
        let question = pathAndQuery.firstIndex(of: "?") ?? pathAndQuery.endIndex
        let path = String(pathAndQuery[..<question])
        let query: [String] =
            question == pathAndQuery.endIndex
            ? [] : pathAndQuery[pathAndQuery.index(after: question)...].split(separator: "&").map { item -> String in
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return PercentEncoding.decode(pair[0])! + "=" + (pair.count > 1 ? PercentEncoding.decode(pair[1])! : "")
            }
        return (scheme, host, path, query.sorted())
    }

    @Test func allVectorsLoad() {
        #expect(Self.vectors.count == 240)
    }

    @Test(arguments: vectors)
    func presignedURLMatchesBotocore(_ vector: Vector) throws {
        let presigner = S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: vector.endpoint), region: vector.region,
                addressing: try #require(Addressing(rawValue: vector.addressing)),
                signature: vector.sig == "v4" ? .v4 : .v2,
                credentials: Credentials(
                    accessKeyId: vector.access, secretAccessKey: vector.secret, sessionToken: vector.session_token)))
        let request = S3Presigner.Request(
            operation: try #require(S3Operation.object(method: vector.method)), bucket: vector.bucket, key: vector.key,
            expiry: .after(seconds: vector.expires),
            headers: (vector.headers ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            query: (vector.query ?? [:]).sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let url = try presigner.presign(request, now: try #require(SigningTime(iso8601: vector.now))).url
        let ours = Self.parts(url)
        let theirs = Self.parts(vector.expected_url)
        #expect(ours.0 == theirs.0)
        #expect(ours.1 == theirs.1)
        #expect(ours.2 == theirs.2)
        #expect(ours.3 == theirs.3)
    }
}
