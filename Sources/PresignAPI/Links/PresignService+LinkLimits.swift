import HTTPServer
import JSONKit
import PresignConfig
import ShareLinks
import PresignCore

/// The limits of the one anonymous route, `GET`/`HEAD /l/{id}`: a token bucket per client address (checked before
/// the store is read) and one per link (checked once the link is known to exist, before its use is counted), and
/// the cap on the live links a caller may hold.
///
/// The buckets are local to each worker loop, like the in-process caller limits, in fleet mode too: a refused
/// request then costs no I/O at all, where a bucket in Redis would spend a script call (a Redis write) on every
/// anonymous request, refused or not, which is the very cost these limits bound. The ceiling is therefore
/// `per_second × workers × replicas` per address and per link.
extension PresignService {
    static func linkRateLimited(_ what: String, retryAfter: Int) -> HTTPResponse {
        noStore(response(APIError(.rateLimited, "too many requests for \(what); retry later",
            headers: ["Retry-After": String(retryAfter)])))
    }

    static func tooManyLinks(_ max: Int) -> APIError {
        APIError(.tooManyLinks, "this caller already holds \(max) live links (links.max_live_per_caller); revoke one or let one expire")
    }

    /// The key of the client's address bucket: the peer, or the client a trusted proxy names (`TrustedProxies`).
    /// A peer that is not an address (an in-process request) shares one bucket with every other such peer.
    static func linkClientKey(_ request: HTTPRequest, _ settings: ServiceConfig.Links) -> [UInt8] {
        var forwarded: [String] = []
        if !settings.trustedProxies.networks.isEmpty {
            for header in request.head.headers where header.name.caseInsensitiveEquals("X-Forwarded-For") {
                forwarded.append(header.value)
            }
        }
        return settings.trustedProxies.client(peer: request.clientAddress, forwardedFor: forwarded)?.limitKey ?? [0]
    }

    /// Takes one token of the client's address bucket; the 429 to answer when it is empty.
    func limitLinkClient(_ request: HTTPRequest, _ settings: ServiceConfig.Links, _ snapshot: Snapshot) -> HTTPResponse? {
        let limiter = snapshot.derived.linkClientLimiter
        // With no trusted proxy the key depends on the peer alone: parsed once per peer (9.5k instructions a request, now 3k).
        let key = settings.trustedProxies.networks.isEmpty
            ? limiter.key(for: request.clientAddress, worker: request.worker) { _ in Self.linkClientKey(request, settings) }
            : Self.linkClientKey(request, settings)
        switch limiter.take(key, limit: settings.perAddress, worker: request.worker, nowNanos: clock.monotonicNanos()) {
        case .allowed: return nil
        case .limited(let retryAfter):
            metrics.linkRateLimited(worker: request.worker, limit: "address")
            return Self.linkRateLimited("this client address", retryAfter: retryAfter)
        }
    }

    /// The key of a link's own bucket: the first half of its digest.
    static func linkLimitKey(_ id: LinkID) -> [UInt8] { Array(id.digest.prefix(16)) }

    /// Takes one token of the link's own bucket (keyed by its digest); the 429 to answer when it is empty.
    func limitLink(_ id: LinkID, _ settings: ServiceConfig.Links, _ request: HTTPRequest, _ snapshot: Snapshot) -> HTTPResponse? {
        switch snapshot.derived.linkLimiter.take(Self.linkLimitKey(id), limit: settings.perLink, worker: request.worker, nowNanos: clock.monotonicNanos()) {
        case .allowed: return nil
        case .limited(let retryAfter):
            metrics.linkRateLimited(worker: request.worker, limit: "link")
            return Self.linkRateLimited("this link", retryAfter: retryAfter)
        }
    }
}
