import Foundation
import PresignConfig
import PresignRuntime
import Testing
import TestSupport

/// The remote JWKS schedule over a fake monotonic clock: the first fetch, freshness for the clamped max-age, the
/// single fetch in flight, the 30 s window for unknown kids, last-good kept on failure, and the document bounds.
/// A generator that always draws `value`: 0 picks the lowest delay of a backoff's range, `.max` the highest.
struct FixedRandom: RandomNumberGenerator {
    let value: UInt64
    mutating func next() -> UInt64 { value }
}

struct JWKSScheduleTests {
    static let s: UInt64 = 1_000_000_000
    /// A start that is not zero, so "never" and "at 0" cannot be confused.
    static let t0: UInt64 = 1_000 * s

    @Test func theFirstFetchIsDueAtOnceAndOnlyOneIsInFlight() {
        var schedule = JWKSSchedule()
        do {
            let due = schedule.refreshIfDue(now: Self.t0)
            #expect(due)
        }
        #expect(schedule.inFlight)
        do {
            let due = schedule.refreshIfDue(now: Self.t0)
            #expect(!due)
        }
        // A request with an unknown kid while it is in flight waits for it rather than starting another.
        do {
            let decision = schedule.unknownKey(now: Self.t0 + 1)
            #expect(decision == .wait)
        }
        #expect(schedule.retryAfter(now: Self.t0 + 1) == 1)
    }

    @Test func goodKeysAreFreshForTheirMaxAgeThenOneBackgroundFetchStarts() {
        var random = FixedRandom(value: UInt64.max)
        var schedule = JWKSSchedule()
        _ = schedule.refreshIfDue(now: Self.t0)
        schedule.finished(succeeded: true, maxAgeSeconds: 600, now: Self.t0, using: &random)
        #expect(schedule.hasKeys && !schedule.inFlight)
        #expect(schedule.refreshAt == Self.t0 + 600 * Self.s)
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 599 * Self.s)
            #expect(!due)
        }
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 600 * Self.s)
            #expect(due)
        }
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 601 * Self.s)
            #expect(!due)
        }
    }

    /// Failed fetches in a row wait 15-30 s, 30-60 s, … up to 150-300 s (the highest draw here); a good fetch starts over.
    @Test func failedFetchesBackOffDoublingToFiveMinutes() {
        var schedule = JWKSSchedule()
        var highest = FixedRandom(value: UInt64.max)
        var lowest = FixedRandom(value: 0)
        var now = Self.t0
        var waits: [UInt64] = []
        for attempt in 0..<6 {
            let due = schedule.refreshIfDue(now: now)
            #expect(due)
            if attempt == 5 {
                schedule.finished(succeeded: false, maxAgeSeconds: 0, now: now, using: &lowest)
            } else {
                schedule.finished(succeeded: false, maxAgeSeconds: 0, now: now, using: &highest)
            }
            waits.append((schedule.refreshAt! - now) / Self.s)
            now = schedule.refreshAt!
        }
        #expect(waits == [30, 60, 120, 240, 300, 150])
        #expect(schedule.failures == 6)
        let dueAgain = schedule.refreshIfDue(now: now)
        #expect(dueAgain)
        schedule.finished(succeeded: true, maxAgeSeconds: 300, now: now, using: &highest)
        #expect(schedule.failures == 0)
        now += 300 * Self.s
        let dueAfterGood = schedule.refreshIfDue(now: now)
        #expect(dueAfterGood)
        schedule.finished(succeeded: false, maxAgeSeconds: 0, now: now, using: &lowest)
        #expect(schedule.refreshAt! - now == 15 * Self.s)
    }

    @Test func aFailedFetchKeepsTheLastGoodKeysAndRetriesThirtySecondsLater() {
        var random = FixedRandom(value: UInt64.max)
        var schedule = JWKSSchedule()
        _ = schedule.refreshIfDue(now: Self.t0)
        schedule.finished(succeeded: true, maxAgeSeconds: 300, now: Self.t0, using: &random)
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 300 * Self.s)
            #expect(due)
        }
        schedule.finished(succeeded: false, maxAgeSeconds: 0, now: Self.t0 + 301 * Self.s, using: &random)
        #expect(schedule.hasKeys)
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 330 * Self.s)
            #expect(!due)
        }
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 331 * Self.s)
            #expect(due)
        }
    }

    @Test func unknownKidsFetchAtMostOncePerThirtySecondWindow() {
        var random = FixedRandom(value: UInt64.max)
        var schedule = JWKSSchedule()
        _ = schedule.refreshIfDue(now: Self.t0)
        schedule.finished(succeeded: true, maxAgeSeconds: 3600, now: Self.t0, using: &random)
        // The start fetch does not use the window: the first unknown kid refetches at once.
        do {
            let decision = schedule.unknownKey(now: Self.t0 + Self.s)
            #expect(decision == .fetch)
        }
        schedule.finished(succeeded: true, maxAgeSeconds: 3600, now: Self.t0 + 2 * Self.s, using: &random)
        var fetches = 0
        var refusals: [Int] = []
        for tenth in 0..<290 {
            switch schedule.unknownKey(now: Self.t0 + 2 * Self.s + UInt64(tenth) * Self.s / 10) {
            case .fetch: fetches += 1
            case .wait: Issue.record("nothing is in flight")
            case .refuse(let seconds): refusals.append(seconds)
            }
        }
        #expect(fetches == 0)
        // Retry-After counts down to the end of the window that opened at t0 + 1 s.
        #expect(refusals.first == 29 && refusals.last == 1)
        do {
            let decision = schedule.unknownKey(now: Self.t0 + 31 * Self.s - 1)
            #expect(decision == .refuse(retryAfterSeconds: 1))
        }
        do {
            let decision = schedule.unknownKey(now: Self.t0 + 31 * Self.s)
            #expect(decision == .fetch)
        }
        do {
            let decision = schedule.unknownKey(now: Self.t0 + 31 * Self.s)
            #expect(decision == .wait)
        }
    }

    @Test func beforeTheFirstGoodFetchFailuresKeepNoKeysAndTheWindowStillHolds() {
        var random = FixedRandom(value: 0)
        var schedule = JWKSSchedule()
        _ = schedule.refreshIfDue(now: Self.t0)
        schedule.finished(succeeded: false, maxAgeSeconds: 0, now: Self.t0, using: &random)
        #expect(!schedule.hasKeys)
        do {
            let decision = schedule.unknownKey(now: Self.t0)
            #expect(decision == .fetch)
        }
        schedule.finished(succeeded: false, maxAgeSeconds: 0, now: Self.t0 + Self.s, using: &random)
        do {
            let decision = schedule.unknownKey(now: Self.t0 + 2 * Self.s)
            #expect(decision == .refuse(retryAfterSeconds: 28))
        }
        #expect(schedule.retryAfter(now: Self.t0 + 2 * Self.s) == 28)
        // The background retry after a failure comes 30 s after it.
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 30 * Self.s)
            #expect(!due)
        }
        do {
            let due = schedule.refreshIfDue(now: Self.t0 + 31 * Self.s)
            #expect(due)
        }
        schedule.finished(succeeded: true, maxAgeSeconds: 300, now: Self.t0 + 32 * Self.s, using: &random)
        #expect(schedule.hasKeys)
    }

    @Test func maxAgeIsReadFromCacheControlAndClamped() {
        var random = FixedRandom(value: UInt64.max)
        #expect(JWKSSchedule.lifetime(cacheControl: nil) == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "public, max-age=3600") == 3600)
        #expect(JWKSSchedule.lifetime(cacheControl: "Max-Age=7200, must-revalidate") == 7200)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=\"900\"") == 900)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=10") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=0") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=31536000") == 86_400)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=99999999999999999999999") == 86_400)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=-5") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=1e9") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "no-store, max-age=3600") == 300)
        #expect(JWKSSchedule.lifetime(cacheControl: "public, no-cache") == 300)
        #expect(JWKSSchedule.clampMaxAge(Int.max) == 86_400)
        #expect(JWKSSchedule.lifetime(cacheControl: "max-age=300, max-age=99999") == 300, "a repeated max-age is not the last one")
        // Empty directives (a provider's header that is only "=", or ends in ",="): ignored, never a crash.
        for (header, lifetime) in [("=", 300), (",=", 300), ("max-age=600,=", 600), ("=, max-age=600", 600), ("= max-age=600", 300),
                                   ("==", 300), (",,,", 300), (" = , max-age", 300), ("max-age=", 300)] {
            #expect(JWKSSchedule.lifetime(cacheControl: header) == lifetime, "\(header)")
        }
        // Seeded random headers from Cache-Control's alphabet: always an answer within the bounds.
        let seed = UInt64.random(in: 0...UInt64.max)
        var rng = SplitMix64(seed: seed)
        let alphabet = Array("max-age=0123456789,\" ;no-cache=".utf8)
        for _ in 0..<5000 {
            let header = String(decoding: (0..<Int(rng.next() % 24)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, as: UTF8.self)
            #expect(JWKSSchedule.maxAgeBounds.contains(JWKSSchedule.lifetime(cacheControl: header)), "seed \(seed): \(header)")
        }
        var schedule = JWKSSchedule()
        _ = schedule.refreshIfDue(now: Self.t0)
        schedule.finished(succeeded: true, maxAgeSeconds: 1_000_000, now: Self.t0, using: &random)
        #expect(schedule.refreshAt == Self.t0 + 86_400 * Self.s)
    }

    static let ecKey = #"{"kty":"EC","crv":"P-256","kid":"KID","alg":"ES256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#

    static func document(keys count: Int) -> [UInt8] {
        let keys = (0..<count).map { ecKey.replacingOccurrences(of: "KID", with: "k\($0)") }
        return Array(#"{"keys":["#.utf8) + Array(keys.joined(separator: ",").utf8) + Array("]}".utf8)
    }

    static func outcome(_ result: Result<some Any, JWKSSchedule.Failure>) -> String {
        switch result {
        case .success: "ok"
        case .failure(let failure): failure.outcome.rawValue
        }
    }

    @Test func documentsAreBoundedInStatusSizeShapeAndKeyCount() throws {
        #expect(try JWKSSchedule.document(status: 200, body: Self.document(keys: 1)).get().count == 1)
        #expect(try JWKSSchedule.document(status: 200, body: Self.document(keys: 100)).get().count == 100)
        #expect(Self.outcome(JWKSSchedule.document(status: 200, body: Self.document(keys: 101))) == "too_many_keys")
        #expect(Self.outcome(JWKSSchedule.document(status: 404, body: Self.document(keys: 1))) == "bad_status")
        #expect(Self.outcome(JWKSSchedule.document(status: 200, body: Array(repeating: 0x20, count: 64 * 1024 + 1))) == "too_large")
        var padded = Self.document(keys: 1)
        padded.append(contentsOf: Array(repeating: 0x20, count: 64 * 1024 - padded.count))
        #expect(Self.outcome(JWKSSchedule.document(status: 200, body: padded)) == "ok")
        for garbage in ["", "<html>", "[]", #"{"keys":{}}"#, #"{"kid":"x"}"#, "{\"keys\":[" ] {
            #expect(Self.outcome(JWKSSchedule.document(status: 200, body: Array(garbage.utf8))) == "not_json", "\(garbage)")
        }
        #expect(Self.outcome(JWKSSchedule.document(status: 200, body: Array(#"{"keys":[]}"#.utf8))) == "no_usable_keys")
        // Entries jwt-kit cannot decode (an OKP X448 key) are left out; none left is a failure. (The RSA-OAEP
        // encryption key decodes; the service's key parsing leaves it out as not RS256.)
        let mixed = #"{"keys":[{"kty":"OKP","crv":"X448","x":"abc","kid":"a"},{"kty":"RSA","alg":"RSA-OAEP","n":"AQAB","e":"AQAB","kid":"b"},\#(Self.ecKey)]}"#
        #expect(try JWKSSchedule.document(status: 200, body: Array(mixed.utf8)).get().count == 2)
        let none = #"{"keys":[{"kty":"OKP","crv":"X448","x":"abc","kid":"a"}]}"#
        #expect(Self.outcome(JWKSSchedule.document(status: 200, body: Array(none.utf8))) == "no_usable_keys")
    }
}
