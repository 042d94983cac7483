import TestSupport
import JSONKit
@testable import PresignCore
import Testing

/// The intent decoders, reading bodies straight from their bytes, against the tree decoders they replaced
/// (`LegacyIntentDecoder`): seeded random bodies (valid, wrongly typed, badly shaped, syntax errors anywhere) give
/// the same intent or the same error, so the order in which errors are reported has not moved.
struct IntentBytesDifferentialTests {
    static func outcome<T: Equatable>(_ body: () throws(APIError) -> T) -> Result<T, APIErrorText> {
        do throws(APIError) { return .success(try body()) } catch { return .failure(APIErrorText(error)) }
    }

    /// An error as the client sees it.
    struct APIErrorText: Error, Equatable, CustomStringConvertible {
        let description: String
        init(_ error: APIError) { description = "\(error.status) \(error.codeName) \(error.field ?? "-") \(error.message)" }
    }

    /// The one place the two may differ: a `response` object holding six overrides and then more, which the bound
    /// refuses where the old decoder named the extra member unknown.
    static func agree<T: Equatable>(_ new: Result<T, APIErrorText>, _ old: Result<T, APIErrorText>) -> Bool {
        if case .failure(let error) = new, error.description.hasSuffix("must hold at most 6 overrides, one per field") {
            guard case .failure(let legacy) = old else { return false }
            return legacy.description.hasPrefix("400 InvalidRequest ") && legacy.description.hasSuffix("unknown field")
                && legacy.description.contains("response.")
        }
        return new == old
    }

    @Test func presignLinkAndUploadBodiesDecodeAlike() {
        var random = IntentBodyGenerator.Random(seed: 22)
        var counts = [0, 0]
        for round in 0..<6_000 {
            let body = IntentBodyGenerator.body(using: &random, mutate: round % 5 == 0)
            let text = String(decoding: body, as: UTF8.self)
            let presign = Self.outcome { () throws(APIError) in try Intent.presign(body) }
            if case .success = presign { counts[0] += 1 } else { counts[1] += 1 }
            #expect(Self.agree(presign, Self.outcome { () throws(APIError) in try LegacyIntentDecoder.presign(body) }), "presign \(text)")
            #expect(Self.agree(Self.outcome { () throws(APIError) in try Intent.link(body) },
                               Self.outcome { () throws(APIError) in try LegacyIntentDecoder.link(body) }), "link \(text)")
            #expect(Self.agree(Self.outcome { () throws(APIError) in try Intent.upload(body) },
                               Self.outcome { () throws(APIError) in try LegacyIntentDecoder.upload(body) }), "upload \(text)")
        }
        // Both outcomes are common: the bodies reach the signers' forms as well as the errors.
        #expect(counts[0] > 300 && counts[1] > 3_000, "\(counts)")
    }

    @Test func batchBodiesDecodeAlike() {
        var random = IntentBodyGenerator.Random(seed: 0xBA7C)
        var succeeded = 0
        for round in 0..<3_000 {
            let body = IntentBodyGenerator.batch(using: &random, mutate: round % 7 == 0)
            let new = Self.outcome { () throws(APIError) in try Intent.batch(body) }
            if case .success = new { succeeded += 1 }
            #expect(Self.agree(new, Self.outcome { () throws(APIError) in try LegacyIntentDecoder.batch(body) }),
                    "\(String(decoding: body, as: UTF8.self))")
        }
        #expect(succeeded > 50)
    }
}
