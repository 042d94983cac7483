import HTTPServer
import PresignConfig
import PresignCore

/// The one policy step of every route that grants something: the intent's backend chosen, the engine's decision,
/// a denial counted and answered 403.
extension PresignService {
    /// `intent` decided for `caller` under `config`: the grant and the backend it names.
    func decide(
        _ intent: Intent, _ caller: Authenticated, _ config: ServiceConfig, worker: Int, path: String = ""
    ) throws(APIError) -> (Grant, ServiceConfig.Backend) {
        let backend = try chooseBackend(intent.backend, config, path: path)
        return (try decide(intent, caller.principal, backend, worker: worker), backend)
    }

    /// `intent` decided for `principal` on `backend` (a link re-checked at use, an upload at each call).
    func decide(_ intent: Intent, _ principal: Principal, _ backend: ServiceConfig.Backend, worker: Int) throws(APIError) -> Grant {
        switch PolicyEngine.evaluate(intent, principal, backend: PolicyEngine.Backend(name: backend.name, signature: backend.signature)) {
        case .success(let grant): return grant
        case .failure(let denial):
            metrics.denied(worker: worker, reason: denial.reason)
            throw APIError.denied(denial)
        }
    }

    /// Whether `intent` is allowed to `principal` on `backend`, without building the grant (a link re-checked at
    /// each use); a denial is counted like any other.
    func allows(_ intent: Intent, _ principal: Principal, _ backend: ServiceConfig.Backend, worker: Int) -> Bool {
        guard let denial = PolicyEngine.denial(intent, principal, backend: PolicyEngine.Backend(name: backend.name, signature: backend.signature)) else {
            return true
        }
        metrics.denied(worker: worker, reason: denial.reason)
        return false
    }

    /// The backend a request names, or the only one; 404 `BackendNotFound` naming the field at `path`.
    func chooseBackend(_ name: String?, _ config: ServiceConfig, path: String) throws(APIError) -> ServiceConfig.Backend {
        let field = path.isEmpty ? "backend" : "\(path).backend"
        switch config.backend(named: name) {
        case .success(let chosen): return chosen.1
        case .failure(let choice):
            // `BackendChoice.notFound`: the one wording of an unknown backend, shared with the admin proxy.
            guard let notFound = choice.notFound else { throw .invalid(field, "is required when several backends are configured") }
            throw APIError(.backendNotFound, notFound.message, field: field)
        }
    }
}
