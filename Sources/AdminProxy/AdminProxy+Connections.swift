import HTTPServer
import PresignConfig
import S3Client

extension AdminProxy {
    /// The backend's connection on this loop (one per backend per loop, shared with the upload API's cache type).
    func connection(_ backend: ServiceConfig.Backend, on loop: EventLoop) -> S3fmAuthConnection {
        connections.connection(
            backend: backend.name, presigner: backend.presigner,
            timeouts: .init(connect: backend.connectTimeout, total: backend.requestTimeout, lowSpeed: backend.lowSpeedTimeout),
            on: loop)
    }
}
