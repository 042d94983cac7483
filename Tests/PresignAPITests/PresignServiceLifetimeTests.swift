import Foundation
import PresignAPI
import PresignConfig
import Testing

/// A service is freed when its owner lets go: its in-process router must not hold it strongly (LeakSanitizer
/// found 5.7 MB of services, configs and metrics kept alive by route closures that captured `self.presign`).
struct PresignServiceLifetimeTests {
    @Test func aServiceIsFreedWithItsOwnRoutesInstalled() async throws {
        let config = try await Fixture.config(try Fixture.makeKeys())
        weak var freed: PresignService?
        do {
            let service = Fixture.service(config)
            freed = service
            _ = service.respond(Fixture.request("GET", "/openapi.yaml"))
            #expect(freed != nil)
        }
        #expect(freed == nil)
    }
}
