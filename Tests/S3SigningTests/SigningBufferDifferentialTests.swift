import S3Signing
import Testing
import TestSupport

/// The signing path's buffer writers (canonical headers sorted as indices, percent-encoding and hex through a stack
/// scratch buffer) against plain reference implementations of the rules they follow, on seeded random inputs.
struct SigningBufferDifferentialTests {
    /// SigV4's canonical headers as the specification states them, one string at a time: names lower-cased, values
    /// trimmed with inner runs of whitespace collapsed, a repeated name listed once with its values joined by
    /// commas in the order given, sorted by name.
    static func referenceHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var names: [String] = []
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let lower = String(decoding: name.utf8.map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 }, as: UTF8.self)
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
            if values[lower] == nil { names.append(lower) }
            values[lower, default: []].append(words.joined(separator: " "))
        }
        names.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let canonical = names.map { "\($0):\(values[$0]!.joined(separator: ","))\n" }.joined()
        return (canonical, names.joined(separator: ";"))
    }

    static func word(_ rng: inout SplitMix64, from alphabet: [String], max: Int) -> String {
        (0..<Int.random(in: 0...max, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    static let nameAlphabet = ["a", "B", "x", "-", "Z", "m", "0"]
    static let valueAlphabet = ["a", " ", "\t", "Q", "/", "é", "  ", "%", ","]

    @Test func canonicalHeadersMatchTheReference() {
        var rng = SplitMix64(seed: 23)
        for _ in 0..<2_000 {
            // Few distinct names, so repeats (in any case) are common.
            let headers = (0..<Int.random(in: 1...7, using: &rng)).map { _ in
                (name: "h" + Self.word(&rng, from: Self.nameAlphabet, max: 2), value: Self.word(&rng, from: Self.valueAlphabet, max: 6))
            }
            let got = SigV4.canonicalHeaders(headers)
            let want = Self.referenceHeaders(headers)
            #expect(got.canonical == want.canonical, "\(headers)")
            #expect(got.signed == want.signed, "\(headers)")
        }
    }

    /// The presigner passes Host beside the request's headers; a signer given Host among them must sign alike.
    @Test func presignerHostBesideHeadersSignsLikeHostAmongThem() throws {
        var rng = SplitMix64(seed: 7)
        let credentials = Credentials(accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
        let endpoint = S3Endpoint(scheme: "https", host: "s3.example.com")
        let presigner = S3Presigner(.init(endpoint: endpoint, region: "eu-west-1", credentials: credentials))
        let signer = SigV4Signer(credentials: credentials, region: "eu-west-1")
        let time = SigningTime(epochSeconds: 1_795_680_000)
        for _ in 0..<300 {
            let headers = (0..<Int.random(in: 0...4, using: &rng)).map { _ in
                (name: "x-amz-meta-" + Self.word(&rng, from: ["a", "b", "C"], max: 2), value: Self.word(&rng, from: ["v", "w", " "], max: 4).trimmed)
            }
            let key = "dir/" + Self.word(&rng, from: ["k", " ", "é", "~", "+", "/"], max: 8)
            let url = try presigner.presign(
                .init(operation: .get, bucket: "bucket", key: key, expiry: .after(seconds: 600), headers: headers), now: time
            ).url
            let wirePath = "/bucket/" + PercentEncoding.encode(key, keepSlash: true)
            let signed = try signer.presign(
                method: "GET", wirePath: wirePath, headers: [("Host", "s3.example.com")] + headers, expiresIn: 600, time: time)
            #expect(url == "https://s3.example.com\(wirePath)?\(signed.canonicalQuery)&X-Amz-Signature=\(signed.signature)")
        }
    }

    @Test func percentEncodingMatchesByteAtATimeEncoding() {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<2_000 {
            let text = Self.word(&rng, from: ["a", "Z", "9", "-", ".", "_", "~", "/", " ", "+", "é", "😀", "%", "\u{7F}"], max: 40)
            var want = ""
            for byte in text.utf8 {
                let unreserved = (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57)
                    || byte == 45 || byte == 46 || byte == 95 || byte == 126
                want += unreserved || byte == 47 ? String(UnicodeScalar(byte)) : "%" + String(byte, radix: 16, uppercase: true).leftPadded
            }
            #expect(PercentEncoding.encode(text, keepSlash: true) == want)
            // Substrings take the same path as strings; a bridged or foreign one would take the byte loop.
            #expect(PercentEncoding.encode(Substring(text), keepSlash: true) == want)
        }
    }
}

extension String {
    fileprivate var trimmed: String { split(separator: " ").joined(separator: " ") }
    fileprivate var leftPadded: String { count == 1 ? "0" + self : self }
}
