@testable import HTTPServer
import Testing

/// The fields the server and handlers look up are found once, in the decoder's pass, and looked up by index: the
/// index must say exactly what a case-insensitive scan says (first occurrence), for any case and any order.
struct HTTPFieldTests {
    static func decode(_ headerLines: [String]) -> Result<HTTPRequestHead, HTTPRequestError> {
        let decoder = HTTPRequestDecoder()
        decoder.feed(Array(("GET / HTTP/1.1\r\n" + headerLines.map { $0 + "\r\n" }.joined() + "\r\n").utf8))
        switch decoder.next() {
        case .head?: return .success(decoder.currentHead!)
        case .error(let error)?: return .failure(error)
        case let other: Issue.record("unexpected \(String(describing: other))"); return .failure(.headerTooLarge)
        }
    }

    @Test func everyFieldIsFoundInAnyCase() throws {
        for field in HTTPField.allCases {
            for name in [field.name, field.name.lowercased(), field.name.uppercased()] {
                let value = field == .expect ? "100-continue" : field == .contentLength ? "0" : field == .transferEncoding ? "chunked" : "v-\(name)"
                let head = try Self.decode(["X-Before: 1", "\(name): \(value)", "X-After: 2"]).get()
                #expect(head.header(field) == value, "\(name)")
                #expect(head.fields[field] == 1)
                #expect(HTTPField(name: name) == field)
            }
        }
    }

    @Test func anAbsentFieldIsNil() throws {
        let head = try Self.decode(["X-Other: 1"]).get()
        for field in HTTPField.allCases { #expect(head.header(field) == nil) }
        // Near misses are not the field.
        #expect(HTTPField(name: "Hosts") == nil)
        #expect(HTTPField(name: "Origins") == nil)
        #expect(HTTPField(name: "Content_Type") == nil)
        #expect(HTTPField(name: "X-Request-Ix") == nil)
    }

    @Test(arguments: HTTPField.allCases.filter(\.isSingleton))
    func aSingletonFieldTwiceIsRefusedInAnyCase(_ field: HTTPField) {
        let result = Self.decode(["\(field.name): a", "\(field.name.lowercased()): b"])
        #expect(throws: HTTPRequestError.malformed("more than one \(field.name) header")) { try result.get() }
    }

    /// A field that may repeat is looked up as before: its first occurrence.
    @Test(arguments: [HTTPField.cookie, .range, .ifMatch, .accessControlRequestHeaders, .connection])
    func aRepeatedFieldAnswersItsFirstOccurrence(_ field: HTTPField) throws {
        let head = try Self.decode(["\(field.name.uppercased()): first", "\(field.name): second"]).get()
        #expect(head.header(field) == "first")
        #expect(head.header(field.name) == "first")
    }

    @Test func obsFoldIsRefusedAsBefore() {
        #expect(throws: HTTPRequestError.smuggling("obsolete line folding in a header")) {
            try Self.decode(["Authorization: Bearer a", " b"]).get()
        }
    }

    /// Differential: for seeded random header lists (known names in random case, others, repeats of repeatable
    /// fields), the index lookup of every field equals the scan by name, and a head built by hand (in-process
    /// requests) indexes exactly as the decoder's pass does.
    @Test func theIndexAgreesWithAScanByName() throws {
        var state = UInt64.random(in: 0...UInt64.max)
        let seed = state
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        let repeatable = HTTPField.allCases.filter { !$0.isSingleton && $0 != .contentLength && $0 != .transferEncoding && $0 != .expect }
        for _ in 0..<300 {
            var lines: [(String, String)] = []
            var singletonsUsed: Set<HTTPField> = []
            for index in 0..<next(12) {
                switch next(3) {
                case 0:
                    lines.append(("X-Extra-\(next(4))", "x\(index)"))
                case 1:
                    let field = repeatable[next(repeatable.count)]
                    lines.append((Self.randomCase(field.name, next), "r\(index)"))
                default:
                    let field = HTTPField.allCases.filter(\.isSingleton)[next(5)]
                    guard singletonsUsed.insert(field).inserted else { continue }
                    lines.append((Self.randomCase(field.name, next), "s\(index)"))
                }
            }
            let head = try Self.decode(lines.map { "\($0.0): \($0.1)" }).get()
            for field in HTTPField.allCases {
                #expect(head.header(field) == head.header(field.name), "seed \(seed): \(lines)")
            }
            #expect(HTTPRequestHead(method: .get, target: "/", headers: head.headers).fields == head.fields, "seed \(seed)")
        }
    }

    static func randomCase(_ name: String, _ next: (Int) -> Int) -> String {
        String(name.map { next(2) == 0 ? Character($0.lowercased()) : Character($0.uppercased()) })
    }
}
