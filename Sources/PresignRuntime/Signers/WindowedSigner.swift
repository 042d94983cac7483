import PresignCore

/// A signer with the window its credentials sign in: nothing it signs may outlive `window` (`clamp`). Static keys
/// have a window that never ends.
public struct WindowedSigner<Signer: Sendable>: Sendable {
    public let signer: Signer
    public let window: CredentialWindow

    public init(signer: Signer, window: CredentialWindow) {
        self.signer = signer
        self.window = window
    }
}
