import Crypto
import Foundation
import S3Signing
import Testing

/// AWS's SigV4 test suite (aws-c-auth, Apache-2.0): every case, every stage, header and query signing.
struct AWSSigV4SuiteTests {
    struct Case: CustomTestStringConvertible {
        let name: String
        var testDescription: String { name }
    }

    static let cases: [Case] = (try? Fixtures.directories("aws-signing-test-suite/v4").map(Case.init)) ?? []

    struct Context: Decodable {
        struct Creds: Decodable {
            let access_key_id: String
            let secret_access_key: String
            let token: String?
        }
        let credentials: Creds
        let expiration_in_seconds: Int64
        let normalize: Bool
        let region: String
        let service: String
        let sign_body: Bool
        let timestamp: String
        let omit_session_token: Bool?
    }

    struct ParsedRequest {
        let method: String
        let path: String
        let query: [(name: String, value: String)]
        let headers: [(name: String, value: String)]
        let body: [UInt8]
    }

    /// Reads `request.txt`: request line, headers (with obs-fold continuation lines), blank line, body.
    static func parseRequest(_ text: String) -> ParsedRequest {
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        let method = String(requestLine[0])
        let target = requestLine[1..<(requestLine.count - 1)].joined(separator: " ")
        var headers: [(name: String, value: String)] = []
        while let line = lines.first, !line.isEmpty {
            lines.removeFirst()
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line
                continue
            }
            let colon = line.firstIndex(of: ":")!
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        let body = lines.isEmpty ? [] : Array(lines.dropFirst().joined(separator: "\n").utf8)
        let pathPart: String
        var query: [(name: String, value: String)] = []
        if let questionMark = target.firstIndex(of: "?") {
            pathPart = String(target[..<questionMark])
            for item in target[target.index(after: questionMark)...].split(separator: "&") {
                let pieces = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append(
                    (
                        PercentEncoding.decode(pieces[0])!,
                        pieces.count > 1 ? PercentEncoding.decode(pieces[1])! : ""
                    ))
            }
        } else {
            pathPart = target
        }
        return ParsedRequest(method: method, path: pathPart, query: query, headers: headers, body: body)
    }

    func load(_ name: String) throws -> (Context, ParsedRequest, SigV4Signer, SigningTime, String) {
        let base = "aws-signing-test-suite/v4/\(name)/"
        let context = try JSONDecoder().decode(Context.self, from: Data(try Fixtures.text(base + "context.json").utf8))
        let request = Self.parseRequest(try Fixtures.text(base + "request.txt"))
        let signer = SigV4Signer(
            credentials: Credentials(
                accessKeyId: context.credentials.access_key_id,
                secretAccessKey: context.credentials.secret_access_key, sessionToken: context.credentials.token),
            region: context.region, service: context.service, pathRule: .generic(normalize: context.normalize))
        let time = try #require(SigningTime(iso8601: context.timestamp))
        let payloadHash = SigV4.sha256Hex(bytes: request.body)
        return (context, request, signer, time, payloadHash)
    }

    @Test func suiteIsPresent() {
        #expect(Self.cases.count == 38)
    }

    @Test(arguments: cases)
    func headerSigningMatchesEveryStage(_ testCase: Case) throws {
        let (context, request, signer, time, payloadHash) = try load(testCase.name)
        let base = "aws-signing-test-suite/v4/\(testCase.name)/"
        let signed = signer.signHeaders(
            method: request.method, wirePath: request.path, query: request.query, headers: request.headers,
            payloadHash: payloadHash, time: time, contentSHA256Header: context.sign_body,
            signSessionToken: !(context.omit_session_token ?? false))
        #expect(signed.canonicalRequest == (try Fixtures.text(base + "header-canonical-request.txt")))
        #expect(signed.stringToSign == (try Fixtures.text(base + "header-string-to-sign.txt")))
        #expect(signed.signature == (try Fixtures.text(base + "header-signature.txt")))
        let authorization = try #require(signed.added.last { $0.name == "Authorization" }).value
        let expectedSigned = try Fixtures.text(base + "header-signed-request.txt")
        #expect(expectedSigned.contains("Authorization:\(authorization)\n"))
    }

    @Test(arguments: cases)
    func querySigningMatchesEveryStage(_ testCase: Case) throws {
        let (context, request, signer, time, payloadHash) = try load(testCase.name)
        let base = "aws-signing-test-suite/v4/\(testCase.name)/"
        let signed = try signer.presign(
            method: request.method, wirePath: request.path, query: request.query, headers: request.headers,
            expiresIn: context.expiration_in_seconds, time: time, payloadHash: payloadHash,
            signSessionToken: !(context.omit_session_token ?? false))
        #expect(signed.canonicalRequest == (try Fixtures.text(base + "query-canonical-request.txt")))
        #expect(signed.stringToSign == (try Fixtures.text(base + "query-string-to-sign.txt")))
        #expect(signed.signature == (try Fixtures.text(base + "query-signature.txt")))
        // The signed request's query carries exactly our parameters (compared decoded), in any order.
        let expectedLine = try Fixtures.text(base + "query-signed-request.txt").components(separatedBy: "\n")[0]
        let target = expectedLine.split(separator: " ").dropFirst().dropLast().joined(separator: " ")
        let expectedQuery = Set(
            target[target.index(after: target.firstIndex(of: "?")!)...].split(separator: "&").map {
                PercentEncoding.decode($0)!
            })
        let ours = Set((request.query + signed.added).map { "\($0.name)=\($0.value)" })
        #expect(ours == expectedQuery)
    }
}
