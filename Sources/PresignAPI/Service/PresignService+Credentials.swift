import Logging
import HTTPServer
import JSONKit
import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing

/// Signing with rotating credentials: the one accessor to a backend's current signer of a kind (or the 503), and
/// the expiry clamp every presigned URL goes through.
extension PresignService {
    /// What a presigned URL's lifetime became: the seconds to sign for, and the requested seconds when clamped.
    struct Lifetime: Equatable {
        let seconds: Int64
        let requested: Int64?
    }

    /// `backend`'s signer of the kind `slot` names, from its current credential set on this worker, or 503
    /// `CredentialsUnavailable`: the signers of the worker's generation (the request's own, unless a SIGHUP landed
    /// while it waited).
    func signer<Signer>(
        _ slot: SignerSlot<Signer>, _ backend: ServiceConfig.Backend, worker: Int, now: Double
    ) -> Result<WindowedSigner<Signer>, APIError> {
        switch store.generation(worker: worker).signers.signer(slot, for: backend, worker: worker, now: now) {
        case .success(let signer): return .success(signer)
        case .failure(let unavailable):
            return .failure(credentialsUnavailable(backend, worker: worker, now: now, reason: unavailable.reason))
        }
    }

    /// `requested` seconds, clamped to the credentials' expiry minus the margin (counted), or 503 when what is left
    /// is under the rule's `min_expires_in` (or nothing is left).
    func lifetime(
        _ requested: Int64, window: CredentialWindow, backend: ServiceConfig.Backend, minExpiresIn: Int64?, worker: Int, now: Double
    ) -> Result<Lifetime, APIError> {
        switch window.clamp(requested: requested, now: Int64(now), minExpiresIn: minExpiresIn) {
        case .unchanged(let seconds):
            return .success(Lifetime(seconds: seconds, requested: nil))
        case .clamped(let seconds, let requested):
            metrics.expiryClamped(worker: worker, backend: backend.name)
            return .success(Lifetime(seconds: seconds, requested: requested))
        case .belowMinimum(let available, let minimum):
            return .failure(credentialsUnavailable(
                backend, worker: worker, now: now,
                reason: "the credentials leave \(available) s, under the rule's min_expires_in \(minimum)"))
        case .unavailable:
            return .failure(credentialsUnavailable(backend, worker: worker, now: now, reason: "the credentials are within their refresh margin"))
        }
    }

    /// 503 with Retry-After; the reason goes to the log (at most one line per backend per 10 s), not to the caller.
    func credentialsUnavailable(_ backend: ServiceConfig.Backend, worker: Int, now: Double, reason: String) -> APIError {
        metrics.credentialsUnavailable(worker: worker, backend: backend.name)
        if store.generation(worker: worker).signers.cell(for: backend)?.shouldComplain(now: Int64(now)) ?? true {
            logger.error("credentials unavailable: answering 503", metadata: ["backend": "\(backend.name)", "reason": "\(reason)"])
        }
        return .credentialsUnavailable(backend: backend.name)
    }

    /// `expires_at`, and when the clamp applied, `"expires_clamped": true` and `requested_expires_at`.
    static func writeExpiry(_ expiresAt: SigningTime, _ lifetime: Lifetime, now: Double, into out: inout JSONWriter) {
        out.plainString("expires_at") { expiresAt.appendISO8601(to: &$0) }
        if let requested = lifetime.requested {
            out.bool("expires_clamped", true)
            out.string("requested_expires_at", SigningTime(epochSeconds: Int64(now)).adding(seconds: requested).iso8601)
        }
    }
}
