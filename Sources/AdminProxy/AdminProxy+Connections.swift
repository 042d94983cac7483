import HTTPServer
import PresignConfig
import S3Client
import S3Signing

/// The backend connections: one per backend per loop, reused while the config that made it is unchanged.
extension AdminProxy {
    /// One connection per backend per loop, dropped when the loop's worker shuts down (a connection holds the
    /// loop's curl client, which must not outlive it).
    final class Connections {
        var byBackend: [String: (identity: BackendIdentity, connection: S3fmAuthConnection)] = [:]
    }

    /// What a connection was made from; a reloaded config with other values gets a new connection.
    struct BackendIdentity: Equatable {
        let endpoint: S3Endpoint
        let credentials: Credentials
        let region: String
        let signature: SignatureVersion
        let addressing: Addressing
        let timeouts: [Double]

        init(_ backend: ServiceConfig.Backend) {
            let c = backend.presigner.configuration
            endpoint = c.endpoint
            credentials = c.credentials
            region = c.region
            signature = c.signature
            addressing = c.addressing
            timeouts = [backend.connectTimeout, backend.requestTimeout, backend.lowSpeedTimeout]
        }
    }

    func connection(_ backend: ServiceConfig.Backend, on loop: EventLoop) -> S3fmAuthConnection {
        let set = connections.get(loop) {
            let made = Connections()
            loop.onShutdown { [weak made] in made?.byBackend.removeAll() }
            return made
        }
        let key = BackendIdentity(backend)
        if let existing = set.byBackend[backend.name], existing.identity == key, existing.connection.isUsable {
            return existing.connection
        }
        let made = S3fmAuthConnection(
            presigner: backend.presigner,
            timeouts: .init(connect: backend.connectTimeout, total: backend.requestTimeout, lowSpeed: backend.lowSpeedTimeout),
            on: loop)
        set.byBackend[backend.name] = (key, made)
        return made
    }
}
