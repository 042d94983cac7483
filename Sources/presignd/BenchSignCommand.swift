import ArgumentParser
import S3Signing

/// `presignd bench-sign`: nanoseconds per SigV4 presigned URL through the full presigner (validation, addressing,
/// canonical request, cached key, URL string). Used by `make bench-sign`; not a test.
struct BenchSignCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sign", abstract: "Measure SigV4 presigning speed (ns per URL).", shouldDisplay: false)

    @Option(parsing: .unconditional, help: "URLs to sign per round.")
    var iterations: Int = 200_000

    @Option(parsing: .unconditional, help: "Rounds; the fastest is reported.")
    var rounds: Int = 5

    func validate() throws {
        guard (1...100_000_000).contains(iterations) else {
            throw ValidationError("--iterations: must be between 1 and 100000000; got \(iterations)")
        }
        guard (1...1000).contains(rounds) else { throw ValidationError("--rounds: must be between 1 and 1000; got \(rounds)") }
    }

    func run() throws {
        let presigner = S3Presigner(
            .init(
                endpoint: try S3Endpoint(parsing: "https://s3.amazonaws.com"), region: "us-east-1",
                addressing: .virtual, signature: .v4,
                credentials: Credentials(
                    accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")))
        let now = SigningTime(epochSeconds: 1_795_680_000)
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000_000)
        var checksum = 0
        for _ in 0..<max(1, rounds) {
            let elapsed = try clock.measure {
                for index in 0..<iterations {
                    let request = S3Presigner.Request(
                        operation: .get, bucket: "examplebucket", key: index & 1 == 0 ? "users/42/photo 1.png" : "a/b.txt",
                        expiry: .after(seconds: 3600))
                    checksum &+= try presigner.presign(request, now: now).url.utf8.count
                }
            }
            best = min(best, elapsed)
        }
        let nanos = Double(best.components.seconds) * 1e9 + Double(best.components.attoseconds) / 1e9
        print("{\"ns_per_url\": \(Int(nanos / Double(iterations))), \"iterations\": \(iterations), \"checksum\": \(checksum)}")
    }
}
