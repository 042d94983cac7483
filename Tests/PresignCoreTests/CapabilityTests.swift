import PresignCore
import S3Signing
import Testing

/// Everything that differs between capabilities is a property of the capability, asked in one place.
struct CapabilityTests {
    @Test func everyCapabilityRoundTripsItsConfigName() {
        for capability in Capability.all { #expect(Capability(name: capability.name) == capability) }
        #expect(Capability(name: "postObject") == nil)
        #expect(Capability.all.count == Set(Capability.all).count)
    }

    /// Each capability has its own bit, and a rule's bit set says exactly what its `Set` says, for every subset a
    /// seeded walk draws.
    @Test func aCapabilitySetHoldsExactlyItsMembers() {
        let bits = Capability.all.map(\.bit)
        #expect(bits == Array(0..<Capability.all.count))
        var state: UInt64 = 0x5EED_CAFE
        for _ in 0..<2_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let draw = state >> 32
            let members = Set(Capability.all.enumerated().filter { (draw >> UInt64($0.offset)) & 1 == 1 }.map(\.element))
            let set = CapabilitySet(members)
            for capability in Capability.all { #expect(set.contains(capability) == members.contains(capability)) }
        }
        #expect(!CapabilitySet([]).contains(.sign(.get)))
        #expect(CapabilitySet([.shareLink]).contains(.shareLink) && !CapabilitySet([.shareLink]).contains(.postForm))
    }

    @Test func theLifetimeCapIsTheSignatureVersionsAndNeverAShareLinks() {
        #expect(Capability.sign(.get).maxLifetime(for: .v4) == 604_800)
        #expect(Capability.postForm.maxLifetime(for: .v4) == 604_800)
        #expect(Capability.sign(.put).maxLifetime(for: .v2) == .max)
        #expect(Capability.sign(.put).maxLifetime(for: .s3fm) == .max)
        for signature in [SignatureVersion.v4, .v2, .s3fm] { #expect(Capability.shareLink.maxLifetime(for: signature) == .max) }
    }

    @Test func onlyShareLinksAreAskedAtTheLinksEndpoint() {
        for capability in Capability.all {
            #expect((capability.endpoint == .links) == (capability == .shareLink))
        }
    }

    @Test func defaultsAreFifteenMinutesForAURLAndADayForALinkOrAnUpload() {
        #expect(Capability.sign(.get).defaultLifetime(multipart: false) == 900)
        #expect(Capability.sign(.put).defaultLifetime(multipart: true) == 86_400)
        #expect(Capability.shareLink.defaultLifetime(multipart: false) == 86_400)
    }

    /// Only `put` and `post_object` store a body, so content types and sizes apply to them alone; forms and links
    /// are about one object.
    @Test func onlyPutAndPostFormStoreABody() {
        #expect(Capability.all.filter(\.storesBody) == [.sign(.put), .postForm])
        #expect(Capability.postForm.scope == .object)
        #expect(Capability.shareLink.scope == .object)
    }
}
