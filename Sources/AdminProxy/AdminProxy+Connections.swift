import HTTPServer
import PresignConfig
import PresignRuntime
import S3Client
import UVLoop

extension AdminProxy {
    /// The backend's connection on this loop (one per backend per loop, shared with the upload API's cache type),
    /// signing with the backend's current credentials; nil when a rotating backend has none usable (503).
    func connection(
        _ backend: ServiceConfig.Backend, _ signers: BackendSigners, worker: Int, now: Double, on loop: EventLoop
    ) -> S3fmAuthConnection? {
        guard case .success(let calls) = signers.signer(.calls, for: backend, worker: worker, now: now) else { return nil }
        return connections.connection(
            backend: backend.name, presigner: calls.signer,
            timeouts: .init(connect: backend.connectTimeout, total: backend.requestTimeout, lowSpeed: backend.lowSpeedTimeout),
            on: loop)
    }
}
