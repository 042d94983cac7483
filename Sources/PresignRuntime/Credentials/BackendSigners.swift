import PresignConfig
import PresignCore
import S3Signing

/// What signs for each backend of one configuration generation, built by the service from the configuration's
/// plain values: a static-key backend's presigner (built once), or a rotating backend's `CredentialCell` (one box
/// per worker of the service). A backend exposes its signers by kind (`SignerSlot`: `.query` URLs, `.form` POST
/// forms, `.calls` to S3), all through the one accessor `signer(_:for:worker:now:)`, which answers with the signer
/// and its `CredentialWindow`, or `CredentialsUnavailable`.
public struct BackendSigners: Sendable {
    enum Signing: Sendable {
        case fixed(S3Presigner)
        case rotating(CredentialCell)
    }

    /// By `ServiceConfig.Backend.index` (the backends sorted by name).
    private let slots: [(name: String, signing: Signing)]

    /// `previous`: the generation being replaced. A rotating backend whose source and margin did not change, and
    /// whose new cell has no set yet, starts with the set the old cell holds.
    public init(_ config: ServiceConfig, workers: Int, carrying previous: BackendSigners? = nil) {
        slots = config.backends.values.sorted { $0.index < $1.index }.map { backend in
            guard let credentials = backend.credentials else { return (backend.name, .fixed(S3Presigner(backend.presigner))) }
            let cell = CredentialCell(
                source: credentials.source, margin: credentials.margin, template: backend.presigner, workers: workers,
                initial: credentials.initial)
            if cell.latest == nil, let old = previous?.cell(named: backend.name), old.source == cell.source, old.margin == cell.margin,
                let set = old.latest?.set
            {
                cell.publish(set)
            }
            return (backend.name, .rotating(cell))
        }
    }

    /// The backend's signing, looked up by its index (by name when `backend` came from another generation).
    func signing(_ backend: ServiceConfig.Backend) -> Signing? {
        if backend.index < slots.count, slots[backend.index].name == backend.name { return slots[backend.index].signing }
        return slots.first { $0.name == backend.name }?.signing
    }

    /// The rotating backend's cell (the 503's log throttle); nil for static keys or a backend not in this generation.
    public func cell(for backend: ServiceConfig.Backend) -> CredentialCell? {
        guard case .rotating(let cell)? = signing(backend) else { return nil }
        return cell
    }

    /// The rotating backend's cell (the refresher, tests); nil for static keys or an unknown name.
    public func cell(named name: String) -> CredentialCell? {
        guard case .rotating(let cell)? = slots.first(where: { $0.name == name })?.signing else { return nil }
        return cell
    }

    /// The rotating backends, by name.
    public var cells: [(backend: String, cell: CredentialCell)] {
        slots.compactMap { slot in
            guard case .rotating(let cell) = slot.signing else { return nil }
            return (slot.name, cell)
        }
    }

    /// `backend`'s signer of the kind `slot` names, on worker `worker` at `now`. Static keys always answer; a
    /// rotating source answers with its current set until it is within the margin of its expiry, then
    /// `CredentialsUnavailable` (503) until a refresh succeeds.
    @inlinable
    public func signer<Signer>(
        _ slot: SignerSlot<Signer>, for backend: ServiceConfig.Backend, worker: Int, now: Double
    ) -> Result<WindowedSigner<Signer>, ServiceConfig.CredentialsUnavailable> {
        presigner(for: backend, worker: worker, now: now).map { WindowedSigner(signer: slot.make($0.signer), window: $0.window) }
    }

    /// The current set's presigner and window: what every slot is made from.
    @usableFromInline
    func presigner(
        for backend: ServiceConfig.Backend, worker: Int, now: Double
    ) -> Result<WindowedSigner<S3Presigner>, ServiceConfig.CredentialsUnavailable> {
        switch signing(backend) {
        case nil:
            return .failure(ServiceConfig.CredentialsUnavailable(backend: backend.name, reason: "the backend is not in this configuration"))
        case .fixed(let presigner)?:
            return .success(WindowedSigner(signer: presigner, window: CredentialWindow(expiration: nil, margin: 0)))
        case .rotating(let cell)?:
            guard let published = cell.published(worker: worker) else {
                return .failure(ServiceConfig.CredentialsUnavailable(
                    backend: backend.name, reason: cell.lastFailure.map { "no credentials yet: \($0)" } ?? "no credentials yet"))
            }
            let window = CredentialWindow(expiration: published.set.expiration, margin: cell.margin)
            if !window.isServing(at: now), let expiration = window.expiration {
                let why = cell.lastFailure.map { ": \($0)" } ?? ""
                return .failure(ServiceConfig.CredentialsUnavailable(
                    backend: backend.name,
                    reason: "the credentials expire at \(SigningTime(epochSeconds: expiration).iso8601) and were not refreshed\(why)"))
            }
            return .success(WindowedSigner(signer: published.presigner, window: window))
        }
    }
}
