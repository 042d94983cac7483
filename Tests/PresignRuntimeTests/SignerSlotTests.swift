import PresignConfig
import PresignCore
import PresignRuntime
import S3Signing
import Testing

/// A backend's signers by kind: each slot is made from the backend's current credential set, signs exactly what
/// that set's presigner signs, and carries the set's window; a rotation moves every slot at once, and inside the
/// margin every slot answers `CredentialsUnavailable`.
struct SignerSlotTests {
    static let now: Int64 = 1_795_000_000
    static let time = SigningTime(epochSeconds: now)
    static let request = S3Presigner.Request(operation: .get, bucket: "b", key: "k", expiry: .after(seconds: 60))
    static let policy = PostPolicy(bucket: "b", key: "k", expiry: .after(seconds: 60))

    @Test func everySlotSignsWithTheCurrentSetAndItsWindow() async throws {
        let config = try await BackendSignersTests.config(BackendSignersTests.container)
        let signers = BackendSigners(config, workers: 1)
        let backend = try #require(config.backends["main"])
        let cell = try #require(signers.cell(named: "main"))
        for (key, expiration) in [("A", Self.now + 900), ("B", Self.now + 1800)] {
            cell.publish(BackendSignersTests.set(key, expiration: expiration))
            let window = CredentialWindow(expiration: expiration, margin: cell.margin)
            let calls = try signers.signer(.calls, for: backend, worker: 0, now: Double(Self.now)).get()
            let query = try signers.signer(.query, for: backend, worker: 0, now: Double(Self.now)).get()
            let form = try signers.signer(.form, for: backend, worker: 0, now: Double(Self.now)).get()
            #expect(calls.signer.configuration.credentials.accessKeyId == key)
            #expect([calls.window, query.window, form.window] == [window, window, window])
            #expect(try query.signer.sign(Self.request, now: Self.time).url == calls.signer.presign(Self.request, now: Self.time).url)
            let signedForm = try form.signer.sign(Self.policy, now: Self.time)
            let expected = try calls.signer.presignPost(Self.policy, now: Self.time)
            #expect(signedForm.url == expected.url)
            #expect(signedForm.fields.map { "\($0.name)=\($0.value)" } == expected.fields.map { "\($0.name)=\($0.value)" })
            #expect(signedForm.fields.contains { $0.name.lowercased() == "x-amz-credential" && $0.value.hasPrefix("\(key)/") })
        }
        // Inside the margin no slot signs.
        let late = Double(Self.now + 1800 - cell.margin)
        #expect((try? signers.signer(.query, for: backend, worker: 0, now: late).get()) == nil)
        #expect((try? signers.signer(.form, for: backend, worker: 0, now: late).get()) == nil)
        #expect((try? signers.signer(.calls, for: backend, worker: 0, now: late).get()) == nil)
    }

    /// Each capability names the signer that signs it; a share link is signed at each use as a GET.
    @Test func eachCapabilityNamesItsSignatureKind() {
        #expect(Capability.all.map(\.signatureKind) == S3Operation.allCases.map { .query($0) } + [.form, .query(.get)])
    }
}
