import Foundation
import JSONKit
import JWTKit
import UVLoop

/// When a remote JWKS (`jwt.jwks_url`) is fetched, as a state machine over an injected monotonic clock (nanoseconds):
/// no sockets, no threads. The glue that fetches keeps one under a lock per key set and asks it before each fetch.
///
/// - The first fetch starts when the service starts serving (or on first use).
/// - A good key set is fresh for its `Cache-Control: max-age`, clamped to `maxAgeBounds` (no max-age: the lower
///   bound). A request that finds it stale starts one background fetch and is served with the stale keys meanwhile.
/// - A failed fetch keeps the last good keys and is retried in the background after `retryBackoff` (15-30 s after
///   the first failure, doubling to 150-300 s; a good fetch starts it over).
/// - A token whose `kid` is not in the set (or any token before the first good fetch) may start one fetch, at most
///   one per `refetchWindow` for this key set, whatever the kids; a request arriving while a fetch is in flight waits
///   for that one. Only one fetch is ever in flight.
public struct JWKSSchedule: Sendable, Equatable {
    public static let maxAgeBounds: ClosedRange<Int> = 300...86_400
    public static let refetchWindowSeconds = 30
    /// The wait before a background retry after failed fetches in a row.
    public static let retryBackoff = Backoff(initialMillis: 30_000, capMillis: 300_000)
    /// The largest JWKS document, and the most keys it may hold; more is a failed fetch.
    public static let maxDocumentBytes = 64 * 1024
    public static let maxKeys = 100
    public static let connectTimeoutMillis = 2000
    public static let totalTimeoutMillis = 5000

    /// What a request that cannot verify its token with the keys at hand should do.
    public enum Decision: Sendable, Equatable {
        /// Start a fetch now and wait for it.
        case fetch
        /// A fetch is in flight: wait for it.
        case wait
        /// No fetch may start before this many seconds: answer now.
        case refuse(retryAfterSeconds: Int)
    }

    public private(set) var hasKeys = false
    public private(set) var inFlight = false
    /// When a background fetch is due (stale keys, or a retry after a failure); nil before the first attempt.
    public private(set) var refreshAt: UInt64?
    /// When the last fetch for an unknown kid started.
    public private(set) var lastKeyFetch: UInt64?
    /// Failed fetches since the last good one.
    public private(set) var failures = 0

    static let second: UInt64 = 1_000_000_000

    public init() {}

    /// A background fetch (the first one, or keys gone stale, or a retry after a failure) should start now.
    public mutating func refreshIfDue(now: UInt64) -> Bool {
        guard !inFlight else { return false }
        if let refreshAt, now < refreshAt { return false }
        inFlight = true
        return true
    }

    /// A token's kid is not in the key set, or there are no keys yet.
    public mutating func unknownKey(now: UInt64) -> Decision {
        if inFlight { return .wait }
        let window = UInt64(Self.refetchWindowSeconds) * Self.second
        if let last = lastKeyFetch, now &- last < window {
            return .refuse(retryAfterSeconds: Self.seconds(last + window - now))
        }
        lastKeyFetch = now
        inFlight = true
        return .fetch
    }

    /// The fetch in flight answered: a good key set with its `Cache-Control` lifetime, or a failure (the keys held,
    /// if any, stay; the retry's jitter is drawn from `random`).
    public mutating func finished(succeeded: Bool, maxAgeSeconds: Int, now: UInt64, using random: inout some RandomNumberGenerator) {
        inFlight = false
        if succeeded {
            hasKeys = true
            failures = 0
            refreshAt = now + UInt64(Self.clampMaxAge(maxAgeSeconds)) * Self.second
        } else {
            refreshAt = now + Self.retryBackoff.delay(attempt: failures, using: &random) * 1_000_000
            failures += 1
        }
    }

    /// Seconds until a fetch may start again for a token with an unknown kid (at least 1): a `Retry-After`.
    public func retryAfter(now: UInt64) -> Int {
        if inFlight { return 1 }
        let window = UInt64(Self.refetchWindowSeconds) * Self.second
        guard let last = lastKeyFetch, now &- last < window else { return 1 }
        return Self.seconds(last + window - now)
    }

    static func seconds(_ nanos: UInt64) -> Int { max(1, Int((nanos + second - 1) / second)) }

    public static func clampMaxAge(_ seconds: Int) -> Int { min(max(seconds, maxAgeBounds.lowerBound), maxAgeBounds.upperBound) }

    /// The key set's lifetime from a `Cache-Control` header: its `max-age`, clamped to `maxAgeBounds`; without one
    /// (or with `no-cache`/`no-store`, or an unreadable value), the lower bound.
    public static func lifetime(cacheControl: String?) -> Int {
        guard let cacheControl else { return maxAgeBounds.lowerBound }
        var maxAge: Int?
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                .map { ASCII.trimmed($0) }
            // `=`, `,=` and the like leave an empty name: no directive.
            guard let first = parts.first, !first.isEmpty else { continue }
            let name = first.lowercased()
            if name == "no-cache" || name == "no-store" { return maxAgeBounds.lowerBound }
            guard name == "max-age", parts.count == 2 else { continue }
            var value = Substring(parts[1])
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            guard !value.isEmpty, value.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { continue }
            // A repeated max-age is invalid (RFC 9111 §4.2.1): the shortest lifetime, not whichever came last.
            if maxAge != nil { return maxAgeBounds.lowerBound }
            // Digits beyond Int's range are "very long": the upper bound.
            maxAge = Int(value) ?? Int.max
        }
        return clampMaxAge(maxAge ?? maxAgeBounds.lowerBound)
    }

    /// Why a fetch failed, as the metric's `outcome` label and a log line.
    public struct Failure: Error, Sendable, Equatable {
        public enum Outcome: String, Sendable {
            case network, status = "bad_status", tooLarge = "too_large", notJSON = "not_json", tooManyKeys = "too_many_keys"
            case noUsableKeys = "no_usable_keys"
        }

        public let outcome: Outcome
        public let message: String

        public init(_ outcome: Outcome, _ message: String) {
            self.outcome = outcome
            self.message = message
        }
    }

    /// Checks a fetched answer before its keys are parsed: status 200, at most `maxDocumentBytes`, a JSON object
    /// whose `keys` is an array of 1 to `maxKeys` entries. Answers the entries jwt-kit can decode; others (a key type
    /// or `alg` it does not know, such as an encryption key) are left out, and none left is a failure.
    public static func document(status: Int, body: [UInt8]) -> Result<[JWK], Failure> {
        guard status == 200 else { return .failure(Failure(.status, "status \(status), not 200")) }
        guard body.count <= maxDocumentBytes else { return .failure(Failure(.tooLarge, "the answer is over \(maxDocumentBytes) bytes")) }
        guard let value = try? JSONValue.parse(body), case .object = value, case .array(let keys)? = value["keys"] else {
            return .failure(Failure(.notJSON, "not a JWKS document (a JSON object with a \"keys\" array)"))
        }
        guard keys.count <= maxKeys else { return .failure(Failure(.tooManyKeys, "\(keys.count) keys, over the limit of \(maxKeys)")) }
        let decoded = (try? JSONDecoder().decode(Lenient.self, from: Data(body)))?.keys.compactMap(\.jwk) ?? []
        guard !decoded.isEmpty else { return .failure(Failure(.noUsableKeys, "no key in the set is one jwt-kit can read")) }
        return .success(decoded)
    }

    /// A JWKS whose entries decode one by one: an entry that does not decode is nil, not the document's failure.
    struct Lenient: Decodable {
        struct Entry: Decodable {
            let jwk: JWK?
            init(from decoder: any Decoder) throws { jwk = try? JWK(from: decoder) }
        }

        let keys: [Entry]
    }
}
