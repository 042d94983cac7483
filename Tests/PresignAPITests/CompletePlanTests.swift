@testable import PresignAPI
import S3Client
import Testing
import TestSupport

/// Complete's decision from S3's listing: every named part must be listed with its ETag (a retried part counts the
/// version named), the sizes are the listed ones, and the total is held to the rule's limit, then the declared one.
struct CompletePlanTests {
    typealias Named = CompleteUploadRequest.Part

    static func listed(_ number: Int, _ etag: String, _ size: Int64) -> MultipartPart {
        MultipartPart(number: number, etag: "\"\(etag)\"", size: size)
    }

    static let limits = CompletePlan.limits(rule: 6_000_000, declared: nil)

    @Test func aPartMissingFromTheListingIsRefusedNotCountedAsZero() {
        // The reported case: part 2 finished after presignd listed; the old code counted it as 0 bytes.
        let listing = [Self.listed(1, "a", 5_242_880)]
        let named = [Named(number: 1, etag: "\"a\""), Named(number: 2, etag: "\"b\"")]
        #expect(CompletePlan.decide(listed: listing, named: named, limits: Self.limits) == .notUploaded(part: 2, listed: false))
    }

    @Test func theLowestUnlistedPartIsNamed() {
        let listing = [Self.listed(2, "b", 1)]
        let named = [Named(number: 5, etag: "e"), Named(number: 2, etag: "b"), Named(number: 3, etag: "c")]
        #expect(CompletePlan.decide(listed: listing, named: named, limits: []) == .notUploaded(part: 3, listed: false))
    }

    @Test func aListedNumberWithAnotherETagIsNotUploaded() {
        let listing = [Self.listed(1, "a", 10), Self.listed(1, "b", 20)]
        #expect(CompletePlan.decide(listed: listing, named: [Named(number: 1, etag: "\"c\"")], limits: []) == .notUploaded(part: 1, listed: true))
    }

    @Test func aRetriedPartCountsTheVersionNamedWhereverItIsListed() {
        // SeaweedFS lists the versions of a part in no particular order.
        let listing = [Self.listed(1, "big", 9_000_000), Self.listed(1, "small", 5_242_880), Self.listed(2, "c", 100)]
        let small = [Named(number: 1, etag: "\"small\""), Named(number: 2, etag: "\"c\"")]
        #expect(CompletePlan.decide(listed: listing, named: small, limits: Self.limits) == .complete(total: 5_242_980))
        let big = [Named(number: 1, etag: "\"big\""), Named(number: 2, etag: "\"c\"")]
        #expect(CompletePlan.decide(listed: listing, named: big, limits: Self.limits)
                == .overLimit(total: 9_000_100, limit: .init(name: "max_content_length", value: 6_000_000)))
    }

    @Test func etagsCompareWithoutTheirQuotes() {
        let listing = [MultipartPart(number: 1, etag: "\"a\"", size: 3), MultipartPart(number: 2, etag: "b", size: 4)]
        let named = [Named(number: 1, etag: "a"), Named(number: 2, etag: "\"b\"")]
        #expect(CompletePlan.decide(listed: listing, named: named, limits: []) == .complete(total: 7))
        #expect(CompletePlan.bare("\"") == "\"" && CompletePlan.bare("\"\"") == "" && CompletePlan.bare("a\"") == "a\"")
    }

    @Test func theSameETagListedTwiceCountsItsLargestSize() {
        let listing = [Self.listed(1, "a", 3), Self.listed(1, "a", 8), Self.listed(1, "a", 5)]
        #expect(CompletePlan.decide(listed: listing, named: [Named(number: 1, etag: "a")], limits: []) == .complete(total: 8))
    }

    @Test func theRulesLimitIsNamedBeforeTheDeclaredOneAndAnEqualTotalPasses() {
        let listing = [Self.listed(1, "a", 100)]
        let named = [Named(number: 1, etag: "a")]
        let both = CompletePlan.limits(rule: 99, declared: 50)
        #expect(CompletePlan.decide(listed: listing, named: named, limits: both) == .overLimit(total: 100, limit: .init(name: "max_content_length", value: 99)))
        let declared = CompletePlan.limits(rule: 1000, declared: 99)
        #expect(CompletePlan.decide(listed: listing, named: named, limits: declared) == .overLimit(total: 100, limit: .init(name: "content_length", value: 99)))
        #expect(CompletePlan.decide(listed: listing, named: named, limits: CompletePlan.limits(rule: 100, declared: 100)) == .complete(total: 100))
        #expect(CompletePlan.exceeded(101, both) == .init(name: "max_content_length", value: 99))
        #expect(CompletePlan.exceeded(99, both) == .init(name: "content_length", value: 50))
        #expect(CompletePlan.exceeded(50, both) == nil)
    }

    @Test(arguments: [
        ("0", 0 as Int64?), ("9242880", 9_242_880), ("9223372036854775807", .max), ("9223372036854775808", nil),
        ("", nil), ("-1", nil), ("+1", nil), (" 1", nil), ("1e3", nil), ("0x10", nil), ("12345678901234567890", nil),
    ])
    func theStoredSizeIsPlainDigits(_ header: String, _ size: Int64?) {
        #expect(CompletePlan.storedSize(header) == size)
        #expect(CompletePlan.storedSize(nil) == nil)
    }

    /// Seeded: an upload's true part versions (some still being sent, so not yet listed), S3's listing of the
    /// rest in any order within a part number, and a client naming one version of some parts, ETags quoted or
    /// not. The decision must count exactly the bytes of the versions named, or refuse the lowest one not listed.
    @Test func randomListingsCountExactlyTheVersionsNamed() {
        var outcomes: [String: Int] = [:]
        for seed in UInt64(1)...3000 {
            var random = SplitMix64(seed: seed)
            var truth: [(number: Int, etag: String, size: Int64, listed: Bool)] = []
            var serial = 0
            for number in 1...(1 + Int(random.next() % 12)) {
                for _ in 0..<Int(random.next() % 4) {
                    serial += 1
                    truth.append((number, "v\(serial)", Int64(random.next() % 8_000_000), random.next() % 5 != 0))
                }
            }
            var listing: [MultipartPart] = []
            for version in truth where version.listed {
                listing.append(MultipartPart(number: version.number, etag: "\"\(version.etag)\"", size: version.size))
            }
            // Shuffle the versions within each part number, keeping the numbers ascending as S3 does.
            listing = Dictionary(grouping: listing, by: \.number).sorted { $0.key < $1.key }.flatMap { $0.value.shuffled(using: &random) }
            var named: [Named] = []
            var chosen: [(number: Int, etag: String, size: Int64, listed: Bool)] = []
            for number in Set(truth.map(\.number)).sorted() where random.next() % 4 != 0 {
                let versions = truth.filter { $0.number == number }
                let version = versions[Int(random.next() % UInt64(versions.count))]
                chosen.append(version)
                named.append(Named(number: number, etag: random.next() % 2 == 0 ? version.etag : "\"\(version.etag)\""))
            }
            guard !named.isEmpty else { continue }
            let limits = CompletePlan.limits(
                rule: random.next() % 2 == 0 ? Int64(random.next() % 30_000_000) : nil,
                declared: random.next() % 3 == 0 ? Int64(random.next() % 30_000_000) : nil)
            let decision = CompletePlan.decide(listed: listing, named: named.shuffled(using: &random), limits: limits)
            let expected: CompletePlan.Decision
            if let missing = chosen.first(where: { !$0.listed }) {
                expected = .notUploaded(part: missing.number, listed: listing.contains { $0.number == missing.number })
            } else {
                let total = chosen.reduce(0) { $0 + $1.size }
                if let over = limits.first(where: { total > $0.value }) {
                    expected = .overLimit(total: total, limit: over)
                } else {
                    expected = .complete(total: total)
                }
            }
            #expect(decision == expected, "seed \(seed)")
            switch expected {
            case .complete: outcomes["complete", default: 0] += 1
            case .notUploaded(_, let listed): outcomes[listed ? "other ETag" : "unlisted", default: 0] += 1
            case .overLimit: outcomes["over", default: 0] += 1
            }
        }
        // Every outcome is exercised, each many times.
        #expect(outcomes.count == 4 && outcomes.values.allSatisfy { $0 >= 100 }, "\(outcomes)")
    }
}
