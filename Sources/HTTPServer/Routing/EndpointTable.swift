/// The one endpoint table: every row of every listener (the presign API, the admin proxy, the probes), in matching
/// order. The server builds each listener's router from it; `presignd routes` prints it.
public struct EndpointTable: Sendable {
    public private(set) var rows: [Endpoint]

    /// The given rows, then `/healthz` and `/readyz` for each listener they serve (the public one always).
    public init(_ rows: [Endpoint]) {
        var listeners: [Endpoint.Listener] = [.public]
        for row in rows where !listeners.contains(row.listener) { listeners.append(row.listener) }
        self.rows = rows + listeners.flatMap(Self.probes)
    }

    /// The rows a listener serves, in order.
    public func rows(for listener: Endpoint.Listener) -> [Endpoint] { rows.filter { $0.listener == listener } }

    /// The listeners the table has rows for.
    public var listeners: [Endpoint.Listener] {
        var seen: [Endpoint.Listener] = []
        for row in rows where !seen.contains(row.listener) { seen.append(row.listener) }
        return seen
    }

    public func router(for listener: Endpoint.Listener) -> Router { Router(rows(for: listener)) }

    /// Built once; the probes answer with these without allocating a body per request.
    static let healthy = HTTPResponse.json(.ok, Array(#"{"status":"ok"}"#.utf8))
    static let ready = HTTPResponse.json(.ok, Array(#"{"status":"ready"}"#.utf8))
    static let draining = HTTPResponse.json(.serviceUnavailable, Array(#"{"status":"draining"}"#.utf8))

    /// `GET /healthz` (the process answers) and `GET /readyz` (503 once draining), on every listener.
    static func probes(_ listener: Endpoint.Listener) -> [Endpoint] {
        [
            Endpoint(.get, "/healthz", listener: listener, access: .anonymous) { _, _ in healthy },
            Endpoint(.get, "/readyz", listener: listener, access: .anonymous) { _, context in context.isDraining ? draining : ready },
        ]
    }
}

extension [Endpoint] {
    /// These rows with an OPTIONS row generated for every path that has a `.caller` row (a browser preflights a
    /// request that carries credentials) and no OPTIONS row of its own, placed after that path's last row, labelled
    /// like its first. `answer` builds its handler from the methods of the path's caller rows in `Allow` order.
    public func addingPreflight(answer: ([HTTPMethod]) -> Endpoint.Handler) -> [Endpoint] {
        var out: [Endpoint] = []
        for (index, row) in enumerated() {
            out.append(row)
            let samePath = filter { $0.listener == row.listener && $0.path == row.path }
            guard let last = self[index...].lastIndex(where: { $0.listener == row.listener && $0.path == row.path }),
                last == index, samePath.contains(where: { $0.access != .anonymous }),
                !samePath.contains(where: { $0.method == .options })
            else { continue }
            let methods = HTTPMethod.inAllowOrder(samePath.filter { $0.access != .anonymous }.map(\.method))
            let first = samePath[0]
            out.append(Endpoint(.options, row.path, listener: row.listener, access: .anonymous, metricLabel: first.metricLabel,
                                handler: answer(methods)))
        }
        return out
    }
}

extension HTTPMethod {
    /// Methods without repeats, in the order an OPTIONS answer lists them (GET, HEAD, POST, PUT, DELETE, PATCH).
    public static func inAllowOrder(_ methods: [HTTPMethod]) -> [HTTPMethod] {
        var unique: [HTTPMethod] = []
        for method in methods where !unique.contains(method) { unique.append(method) }
        return unique.sorted { $0.listOrder < $1.listOrder }
    }

    /// An `Allow` value: the methods, then OPTIONS.
    public static func allowHeader(_ methods: [HTTPMethod]) -> String {
        (methods + [.options]).map(\.name).joined(separator: ", ")
    }
}
