import RedisClient
import PresignConfig
import CoreMetrics
import HTTPServer
import LineLog
import Metrics
import Prometheus
import UVLoop

/// The service's metrics through swift-metrics, exported by swift-prometheus. Each worker caches its own metric
/// handles by label, so the hot path does a dictionary lookup on its own row, never a registry lock.
public final class APIMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let factory: PrometheusMetricsFactory
    /// Each worker's handle cache, in its own box: a worker writes only its own.
    private let rows: PerWorker<Row>
    /// stdout's queues, whose dropped lines `render` adds (`presignd_log_lines_dropped_total{stream}`).
    let logOutput: LineOutput?

    struct Key: Hashable {
        let label: String
        let first: String
        let second: String
    }

    struct RequestKey: Hashable {
        let route: String
        let status: Int
    }

    struct Row {
        var counters: [Key: CoreMetrics.Counter] = [:]
        var timers: [Key: Metrics.Timer] = [:]
        /// Every request's pair (its count by route and status, its duration by route), found in one lookup.
        var requests: [RequestKey: (count: CoreMetrics.Counter, duration: Metrics.Timer)] = [:]
        /// The last request's and the last issued URL's handles: a run of one route and status, or of one operation
        /// on one backend, compares two strings instead of hashing a key (`request`: 2.0k -> 1.5k instructions).
        var lastRequest: (key: RequestKey, count: CoreMetrics.Counter, duration: Metrics.Timer)?
        var lastIssued: (operation: String, backend: String, counter: CoreMetrics.Counter)?
    }

    public init(workers: Int, logOutput: LineOutput? = nil) {
        self.logOutput = logOutput
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["presignd_http_request_duration_seconds"] = [
            .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
            .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1),
        ]
        self.factory = factory
        rows = PerWorker(count: max(workers, 1)) { _ in Row() }
        // Present from the start, so dashboards see zeros rather than nothing.
        for worker in 0..<rows.count {
            _ = counter(worker, "presignd_rate_limited_total", [])
        }
    }

    private func counter(_ worker: Int, _ label: String, _ dimensions: [(String, String)]) -> CoreMetrics.Counter {
        let key = Key(label: label, first: dimensions.first?.1 ?? "", second: dimensions.dropFirst().first?.1 ?? "")
        return rows.withValue(worker) { row in
            if let cached = row.counters[key] { return cached }
            let made = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
            row.counters[key] = made
            return made
        }
    }

    private func timer(_ worker: Int, _ label: String, _ dimensions: [(String, String)]) -> Metrics.Timer {
        let key = Key(label: label, first: dimensions.first?.1 ?? "", second: dimensions.dropFirst().first?.1 ?? "")
        return rows.withValue(worker) { row in
            if let cached = row.timers[key] { return cached }
            let made = Metrics.Timer(label: label, dimensions: dimensions, factory: factory)
            row.timers[key] = made
            return made
        }
    }

    public func request(worker: Int, route: String, status: Int, nanos: UInt64) {
        let key = RequestKey(route: route, status: status)
        let pair: (count: CoreMetrics.Counter, duration: Metrics.Timer)
        if let last = rows.withValue(worker, { $0.lastRequest }), last.key == key {
            pair = (last.count, last.duration)
        } else if let cached = rows.withValue(worker, { $0.requests[key] }) {
            pair = cached
            rows.withValue(worker) { $0.lastRequest = (key, cached.count, cached.duration) }
        } else {
            pair = (counter(worker, "presignd_http_requests_total", [("route", route), ("status", String(status))]),
                    timer(worker, "presignd_http_request_duration_seconds", [("route", route)]))
            rows.withValue(worker) {
                $0.requests[key] = pair
                $0.lastRequest = (key, pair.count, pair.duration)
            }
        }
        pair.count.increment()
        pair.duration.recordNanoseconds(Int64(clamping: nanos))
    }

    public func issued(worker: Int, operation: String, backend: String) {
        if let last = rows.withValue(worker, { $0.lastIssued }), last.operation == operation, last.backend == backend {
            return last.counter.increment()
        }
        let made = counter(worker, "presignd_urls_issued_total", [("operation", operation), ("backend", backend)])
        rows.withValue(worker) { $0.lastIssued = (operation, backend, made) }
        made.increment()
    }

    public func denied(worker: Int, reason: String) {
        counter(worker, "presignd_policy_denials_total", [("reason", reason)]).increment()
    }

    /// The hooks of worker `worker`'s Redis connection: command latency, failures by kind, reconnects.
    public func redisHooks(worker: Int) -> RedisHooks {
        RedisHooks(
            latency: { [self] nanos in timer(worker, "presignd_redis_command_duration_seconds", []).recordNanoseconds(Int64(clamping: nanos)) },
            error: { [self] kind in counter(worker, "presignd_redis_errors_total", [("kind", kind)]).increment() },
            reconnect: { [self] in counter(worker, "presignd_redis_reconnects_total", []).increment() })
    }

    /// A rate-limited request served without its limit because Redis could not answer (`on_error: allow`).
    public func rateLimitFailOpen(worker: Int) {
        counter(worker, "presignd_rate_limit_fail_open_total", []).increment()
    }

    /// A share-link store call that failed: `busy` (lock timeout) or `unavailable`.
    public func linkStoreError(worker: Int, busy: Bool) {
        counter(worker, "presignd_link_store_errors_total", [("kind", busy ? "busy" : "unavailable")]).increment()
    }

    /// A URL whose expiry was shortened to its credentials' expiry minus the margin.
    public func expiryClamped(worker: Int, backend: String) {
        counter(worker, "presignd_expiry_clamped_total", [("backend", backend)]).increment()
    }

    /// A request answered 503 `CredentialsUnavailable`.
    public func credentialsUnavailable(worker: Int, backend: String) {
        counter(worker, "presignd_credentials_unavailable_total", [("backend", backend)]).increment()
    }

    /// A credential refresh, by result (`ok`, `failed`); counted by the refresher on its own worker's row.
    public func credentialRefresh(worker: Int, backend: String, ok: Bool) {
        counter(worker, "presignd_credential_refreshes_total", [("backend", backend), ("result", ok ? "ok" : "failed")]).increment()
    }

    /// A `jwt.jwks_url` fetch by outcome: `ok`, `network`, `bad_status`, `too_large`, `not_json`, `too_many_keys`,
    /// `no_usable_keys`.
    public func jwksFetch(worker: Int, outcome: String) {
        counter(worker, "presignd_jwks_fetches_total", [("outcome", outcome)]).increment()
    }

    /// An answer that came after its client had left (closed, reset, timed out, drained) and was dropped.
    public func lateAnswerDropped(worker: Int, route: String) {
        counter(worker, "presignd_late_answers_dropped_total", [("route", route)]).increment()
    }

    public func rateLimited(worker: Int) {
        counter(worker, "presignd_rate_limited_total", []).increment()
    }

    /// A `/l/{id}` request refused by its per-address or per-link limit (`limit` is `address` or `link`).
    public func linkRateLimited(worker: Int, limit: String) {
        counter(worker, "presignd_link_rate_limited_total", [("limit", limit)]).increment()
    }

    /// Prometheus text exposition format.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(4096)
        registry.emit(into: &buffer)
        if let logOutput {
            // Counted by the log queues themselves (a drop can happen on any thread, the writer's included).
            buffer += "# TYPE presignd_log_lines_dropped_total counter\n".utf8
            for stream in LogStream.allCases {
                buffer += "presignd_log_lines_dropped_total{stream=\"\(stream.name)\"} \(logOutput.dropped(stream))\n".utf8
            }
        }
        return buffer
    }
}
