import HTTPServer
@testable import PresignConfig
import RedisClient
import S3Signing
import Testing
import TestSupport

/// Every reader of a `host[:port]` (S3 endpoints, Redis URLs, listen addresses, container-credential and STS URLs,
/// JWKS URLs) gives the same answer for the same authority: accepted or refused, the same host and port, and the
/// same loopback verdict. Written against each caller's own API, so it checks the callers, not the shared parser.
struct AuthorityCallersTests {
    struct Answers: Equatable, CustomStringConvertible {
        var s3: String?
        var redis: String?
        var sts: Bool
        var jwks: Bool
        var description: String { "s3 \(s3 ?? "refused"), redis \(redis ?? "refused"), sts \(sts), jwks \(jwks)" }
    }

    /// Each caller's reading of `authority` as `host port` (brackets dropped, the scheme's default port filled in)
    /// or nil when it refuses it.
    static func answers(_ authority: String) -> Answers {
        func strip(_ host: String) -> String { host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host }
        let s3 = (try? S3Endpoint(parsing: "http://\(authority)")).map { "\(strip($0.host)) \($0.port ?? 80)" }
        let redis = (try? RedisURL(parsing: "redis://\(authority)")).map { "\($0.host) \($0.port)" }
        return Answers(s3: s3, redis: redis, sts: ConfigLoader.stsEndpointProblem("https://\(authority)/") == nil,
                       jwks: JWTAuth.checkJWKSURL("https://\(authority)/jwks") == nil)
    }

    static let hosts = [
        "localhost", "Example.COM", "a-b.c", "127.0.0.1", "127.0001.0.1", "10.0.0.1", "[::1]", "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]", "::1", "0:0:0:0:0:0:0:1", "[::1", "[zz::1]", "ho_st", "", "[fe80::1]", "127.1", "-x", "[]",
    ]
    static let ports: [String?] = [nil, "", "0", "1", "80", "6379", "65535", "65536", "080", "+1", "1:2", "x"]

    static func join(_ host: String, _ port: String?) -> String { port.map { "\(host):\($0)" } ?? host }

    /// Every host with every port: the four connecting callers accept or refuse together and read the same host; the
    /// two that check for loopback agree on it.
    @Test func connectingCallersAgree() {
        for host in Self.hosts {
            for port in Self.ports {
                let authority = Self.join(host, port)
                let answers = Self.answers(authority)
                let accepted = answers.s3 != nil
                #expect((answers.redis != nil) == accepted && answers.sts == accepted && answers.jwks == accepted, "\(authority): \(answers)")
                if let s3 = answers.s3, let redis = answers.redis, port != nil {
                    #expect(s3 == redis, "\(authority)")
                }
                let stsHTTP = ConfigLoader.stsEndpointProblem("http://\(authority)/") == nil
                let jwksHTTP = JWTAuth.checkJWKSURL("http://\(authority)/jwks") == nil
                #expect(stsHTTP == jwksHTTP, "\(authority): loopback to STS \(stsHTTP), to JWKS \(jwksHTTP)")
            }
        }
    }

    /// A listener reads the same authorities, except that it needs a port and may ask for port 0 (any free port).
    @Test func theListenerReadsWhatTheOthersReadPlusPortZero() {
        for host in Self.hosts {
            for port in Self.ports {
                let authority = Self.join(host, port)
                let listen = try? ListenAddress(parsing: authority)
                let asConnect = Self.answers(Self.join(host, port == "0" ? "1" : port)).redis
                let expected = port == nil ? nil : asConnect.map { _ in port == "0" ? 0 : Int(port!)! }
                #expect(listen?.port == expected, "\(authority)")
                if let listen, let asConnect { #expect(asConnect.hasPrefix("\(listen.host) "), "\(authority)") }
            }
        }
    }

    /// Seeded random strings over the characters authorities are made of: the callers still agree.
    @Test func randomAuthoritiesGetOneAnswer() {
        var random = SplitMix64(seed: 0xA07_4017)
        let alphabet = Array("a1f0-.:[]7")
        var accepted = 0
        for _ in 0..<5_000 {
            let authority = String((0..<Int.random(in: 0...12, using: &random)).map { _ in alphabet.randomElement(using: &random)! })
            let answers = Self.answers(authority)
            #expect((answers.redis != nil) == (answers.s3 != nil) && answers.sts == (answers.s3 != nil) && answers.jwks == answers.sts,
                    "\(authority): \(answers)")
            if answers.s3 != nil { accepted += 1 }
        }
        #expect(accepted > 100)
    }

    @Test func theCasesTheOldParsersDisagreedOn() throws {
        // [::1]:0 is a listener's "any port"; a peer on port 0 is refused.
        #expect(Self.answers("[::1]:0") == Answers(s3: nil, redis: nil, sts: false, jwks: false))
        let any = try ListenAddress(parsing: "[::1]:0")
        #expect(any.host == "::1" && any.port == 0)
        // [::1] without a port: a peer on the scheme's port; a listener needs one.
        #expect(Self.answers("[::1]") == Answers(s3: "::1 80", redis: "::1 6379", sts: true, jwks: true))
        #expect((try? ListenAddress(parsing: "[::1]")) == nil)
        // ::1 unbracketed is refused everywhere (the listener used to read host ":" and port 1).
        #expect(Self.answers("::1") == Answers(s3: nil, redis: nil, sts: false, jwks: false))
        #expect((try? ListenAddress(parsing: "::1")) == nil)
        #expect((try? ListenAddress(parsing: "::1:8080")) == nil)
        for refused in ["host:", "host:65536"] {
            #expect(Self.answers(refused) == Answers(s3: nil, redis: nil, sts: false, jwks: false), "\(refused)")
            #expect((try? ListenAddress(parsing: refused)) == nil, "\(refused)")
        }
        // Loopback: one rule.
        for (host, loopback) in [("127.0001.0.1", false), ("[0:0:0:0:0:0:0:1]", true), ("[::ffff:127.0.0.1]", true), ("0:0:0:0:0:0:0:1", false)] {
            #expect((ConfigLoader.stsEndpointProblem("http://\(host)/") == nil) == loopback, "\(host)")
            #expect((JWTAuth.checkJWKSURL("http://\(host)/jwks") == nil) == loopback, "\(host)")
            #expect((ConfigLoader.containerEndpointProblem("http://\(host)/") == nil) == loopback, "\(host)")
        }
    }
}
