import S3Signing
import UVLoop

/// One `S3fmAuthConnection` per backend per worker loop, reused while the backend's settings are unchanged and
/// dropped when the loop's worker shuts down (a connection holds the loop's curl client, which must not outlive
/// it). Shared by the admin proxy and the upload API; touched only on each loop's own thread.
public final class S3ConnectionCache: Sendable {
    final class Slot {
        var byBackend: [String: (identity: Identity, connection: S3fmAuthConnection)] = [:]
    }

    /// What a connection was made from; a reloaded config with other values gets a new connection.
    struct Identity: Equatable {
        let endpoint: S3Endpoint
        let credentials: Credentials
        let region: String
        let signature: SignatureVersion
        let addressing: Addressing
        let vanityDomains: [String]
        let timeouts: [Double]

        init(_ presigner: S3Presigner, _ timeouts: S3fmAuthConnection.Timeouts) {
            let c = presigner.configuration
            endpoint = c.endpoint
            credentials = c.credentials
            region = c.region
            signature = c.signature
            addressing = c.addressing
            vanityDomains = c.vanityDomains
            self.timeouts = [timeouts.connect, timeouts.total, timeouts.lowSpeed]
        }
    }

    private let slots = LoopLocal<Slot>()
    /// How the connections reach their backends: libcurl, or a test's in-memory S3.
    let transports: S3Transports

    public init(transports: S3Transports = .curl) { self.transports = transports }

    public func connection(
        backend name: String, presigner: S3Presigner, timeouts: S3fmAuthConnection.Timeouts, on loop: EventLoop
    ) -> S3fmAuthConnection {
        let slot = slots.get(loop) {
            let made = Slot()
            loop.onShutdown { [weak made] in made?.byBackend.removeAll() }
            return made
        }
        let identity = Identity(presigner, timeouts)
        if let existing = slot.byBackend[name], existing.identity == identity, existing.connection.isUsable {
            return existing.connection
        }
        let made = S3fmAuthConnection(presigner: presigner, timeouts: timeouts, transport: transports.make(loop))
        slot.byBackend[name] = (identity, made)
        return made
    }
}

extension S3Error {
    /// How a failed S3 call is answered to a client: S3's own status and code; 504 for a timeout; 502 for an
    /// unreachable backend or an unreadable answer; 400 for a call refused before it was sent.
    public var answer: (status: Int, code: String, message: String, s3RequestId: String?) {
        switch self {
        case .s3(let status, let document):
            return (status, document.code, document.message, document.requestId)
        case .transport(let failure) where failure.kind == .timeout:
            return (504, "GatewayTimeout", "backend timed out: \(failure.message)", nil)
        case .transport(let failure):
            return (502, "BadGateway", "backend unreachable: \(failure.message)", nil)
        case .badResponse(let reason):
            return (502, "BadGateway", "unreadable backend response: \(reason)", nil)
        case .invalid(let reason):
            return (400, "InvalidRequest", reason, nil)
        }
    }
}
