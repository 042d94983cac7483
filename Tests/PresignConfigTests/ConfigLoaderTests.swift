import Foundation
import PresignConfig
import Testing

/// Loading a config file: each mistake is one `ConfigError` that names the field by its path in the file
/// (`callers[1].rules[0].operations[1]`) and says what is wrong, exactly as `presignd serve` prints it.
/// The numeric bounds are in ConfigBoundsTests.
struct ConfigLoaderTests {
    static let environment = ["S3_ACCESS_KEY": "AKIDTEST", "S3_SECRET_KEY": "test-secret-key"]
    static let digest = String(repeating: "ab", count: 32)

    /// A config that loads; each test changes one thing in it.
    static let valid = """
        listen: 127.0.0.1:0
        backends:
          main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                 access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
        callers:
          - name: batch
            auth: {api_key_sha256: "\(digest)"}
            rules:
              - {name: reports, operations: [get, put], bucket: reports, key: "*", max_expires_in: 3600}
          - name: web
            auth: {api_key_sha256: "\(digest.uppercased())"}
            rules:
              - {operations: [get], bucket: uploads, key: "users/*", max_expires_in: 600}
        """

    /// The description of the error that loading `yaml` throws, or nil when it loads.
    static func error(
        _ yaml: String, environment: [String: String] = environment, files: [String: String] = [:]
    ) async -> String? {
        let secrets = SecretSource(environment: environment, readFile: { files[$0] })
        do {
            _ = try await ConfigLoader.load(yaml: yaml, secrets: secrets)
            return nil
        } catch {
            return error.description
        }
    }

    /// `valid` with `old` replaced by `new`; `old` must occur in it.
    static func valid(replacing old: String, with new: String) -> String {
        precondition(valid.contains(old), "'\(old)' is not in the valid config")
        return valid.replacingOccurrences(of: old, with: new)
    }

    @Test func theValidConfigLoads() async throws {
        let config = try await ConfigLoader.load(yaml: Self.valid, secrets: SecretSource(environment: Self.environment))
        #expect(config.callers.map(\.name) == ["batch", "web"])
        #expect(config.backends.keys.sorted() == ["main"])
    }

    @Test func anUnknownTopLevelFieldIsNamed() async {
        let error = await Self.error("listne: 127.0.0.1:0\n" + Self.valid)
        #expect(error == "listne: unknown field")
    }

    @Test func auditOnBackpressureIsRefuseUnlessSetAndTakesDropOrRefuseOnly() async throws {
        let secrets = SecretSource(environment: Self.environment)
        #expect(try await ConfigLoader.load(yaml: Self.valid, secrets: secrets).auditOnBackpressure == .refuse)
        #expect(try await ConfigLoader.load(yaml: "audit_on_backpressure: drop\n" + Self.valid, secrets: secrets).auditOnBackpressure == .drop)
        #expect(try await ConfigLoader.load(yaml: "audit_on_backpressure: refuse\n" + Self.valid, secrets: secrets).auditOnBackpressure == .refuse)
        #expect(await Self.error("audit_on_backpressure: block\n" + Self.valid) == "audit_on_backpressure: must be refuse or drop (got 'block')")
        #expect(await Self.error("audit_on_backpressure: Drop\n" + Self.valid) == "audit_on_backpressure: must be refuse or drop (got 'Drop')")
        #expect(await Self.error("audit_on_backpresure: drop\n" + Self.valid) == "audit_on_backpresure: unknown field")
    }

    @Test func theLogBuffersDefaultTo1MiBAnd4MiBPerWorker() async throws {
        let config = try await ConfigLoader.load(yaml: Self.valid, secrets: SecretSource(environment: Self.environment))
        #expect(config.server.logBufferBytes == 1_048_576)
        #expect(config.server.auditBufferBytes == 4_194_304)
    }

    @Test func anUnknownFieldInABackendIsNamedWithItsPath() async {
        let yaml = Self.valid(replacing: "region: us-east-1", with: "regoin: us-east-1")
        let error = await Self.error(yaml)
        #expect(error == "backends.main.regoin: unknown field")
    }

    @Test func anUnknownFieldInARuleIsNamedWithItsIndexes() async {
        let yaml = Self.valid(replacing: "bucket: uploads", with: "buckets: uploads")
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules[0].buckets: unknown field")
    }

    @Test func aMissingBackendsSectionIsNamed() async {
        let yaml = Self.valid(replacing: """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                     access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}

            """, with: "")
        let error = await Self.error(yaml)
        #expect(error == "backends: required field is missing")
    }

    @Test func anEmptyBackendsSectionNeedsOneBackend() async {
        let yaml = Self.valid(replacing: """
            backends:
              main: {endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path,
                     access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
            """, with: "backends: {}")
        let error = await Self.error(yaml)
        #expect(error == "backends: at least one backend is required")
    }

    @Test func aBackendWithoutAnEndpointIsNamed() async {
        let yaml = Self.valid(replacing: #"endpoint: "http://127.0.0.1:8333", "#, with: "")
        let error = await Self.error(yaml)
        #expect(error == "backends.main.endpoint: required field is missing")
    }

    @Test func anUnknownDialectIsNamedWithTheValueGiven() async {
        let yaml = Self.valid(replacing: "dialect: aws-v4", with: "dialect: aws-v5")
        let error = await Self.error(yaml)
        #expect(error == "backends.main.dialect: must be s3fm, aws-v2 or aws-v4 (got 'aws-v5')")
    }

    @Test func anUnknownAddressingStyleIsNamed() async {
        let yaml = Self.valid(replacing: "addressing: path", with: "addressing: subdomain")
        let error = await Self.error(yaml)
        #expect(error == "backends.main.addressing: must be path, virtual or vanity")
    }

    @Test func aRuleNamingAnUnknownBackendIsRefused() async {
        let yaml = Self.valid(replacing: "bucket: reports,", with: "bucket: reports, backend: archive,")
        let error = await Self.error(yaml)
        #expect(error == "callers[0].rules[0].backend: no backend named 'archive'")
    }

    @Test func anUnsetSecretEnvironmentVariableIsNamed() async {
        let error = await Self.error(Self.valid, environment: ["S3_ACCESS_KEY": "AKIDTEST"])
        #expect(error == "backends.main.secret_key_env: environment variable S3_SECRET_KEY (secret key) is not set")
    }

    @Test func anEmptySecretEnvironmentVariableCountsAsUnset() async {
        let error = await Self.error(Self.valid, environment: ["S3_ACCESS_KEY": "", "S3_SECRET_KEY": "x"])
        #expect(error == "backends.main.access_key_env: environment variable S3_ACCESS_KEY (access key) is not set")
    }

    @Test func anUnreadableSecretFileIsNamed() async {
        let yaml = Self.valid(replacing: "secret_key_env: S3_SECRET_KEY", with: "secret_key_file: /run/secrets/s3")
        let error = await Self.error(yaml)
        #expect(error == "backends.main.secret_key_env: cannot read secret key file /run/secrets/s3")
    }

    @Test func aSecretGivenBothWaysIsRefused() async {
        let yaml = Self.valid(replacing: "secret_key_env: S3_SECRET_KEY", with: "secret_key_env: S3_SECRET_KEY, secret_key_file: /run/secrets/s3")
        let error = await Self.error(yaml, files: ["/run/secrets/s3": "k\n"])
        #expect(error == "backends.main.secret_key_env: give secret key by environment or by file, not both")
    }

    @Test func anUnknownCallerAuthKindIsNamed() async {
        let yaml = Self.valid(replacing: #"auth: {api_key_sha256: "\#(Self.digest)"}"#, with: "auth: {oauth: {issuer: x}}")
        let error = await Self.error(yaml)
        #expect(error == "callers[0].auth.oauth: unknown field")
    }

    @Test func aCallerAuthWithNoKindIsRefused() async {
        let yaml = Self.valid(replacing: #"auth: {api_key_sha256: "\#(Self.digest)"}"#, with: "auth: {}")
        let error = await Self.error(yaml)
        #expect(error == "callers[0].auth: give exactly one of api_key_sha256 or jwt")
    }

    @Test func anAPIKeyDigestThatIsNotSixtyFourHexDigitsIsRefused() async {
        let yaml = Self.valid(replacing: #"auth: {api_key_sha256: "\#(Self.digest)"}"#, with: #"auth: {api_key_sha256: "abc"}"#)
        let error = await Self.error(yaml)
        #expect(error == "callers[0].auth.api_key_sha256: must be 64 hex digits (sha256 of the key)")
    }

    @Test func aDuplicateCallerNameIsNamedAtItsSecondUse() async {
        let yaml = Self.valid(replacing: "name: web", with: "name: batch")
        let error = await Self.error(yaml)
        #expect(error == "callers[1].name: caller names must be non-empty and unique")
    }

    @Test func aCallerWithNoRulesIsRefused() async {
        let yaml = Self.valid(replacing: """
                rules:
                  - {operations: [get], bucket: uploads, key: "users/*", max_expires_in: 600}
            """, with: "    rules: []")
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules: a caller needs at least one rule")
    }

    @Test func aRuleWithAnUnknownOperationNamesTheOperationAndItsIndex() async {
        let yaml = Self.valid(replacing: "operations: [get, put]", with: "operations: [get, list]")
        let error = await Self.error(yaml)
        #expect(error == "callers[0].rules[0].operations[1]: unknown operation 'list'")
    }

    @Test func aRuleWithNoOperationsIsRefused() async {
        let yaml = Self.valid(replacing: "operations: [get, put]", with: "operations: []")
        let error = await Self.error(yaml)
        #expect(error == "callers[0].rules[0].operations: list at least one operation")
    }

    @Test func aRuleWithoutABucketIsNamed() async {
        let yaml = Self.valid(replacing: "bucket: uploads, ", with: "")
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules[0].bucket: required field is missing")
    }

    @Test func aKeyGlobWithAnUnclosedClaimIsRefused() async {
        let yaml = Self.valid(replacing: #"key: "users/*""#, with: #"key: "users/${sub/*""#)
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules[0].key: unclosed ${ in 'users/${sub/*'")
    }

    @Test func aKeyGlobWithABadClaimNameIsRefused() async {
        let yaml = Self.valid(replacing: #"key: "users/*""#, with: #"key: "users/${a b}/*""#)
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules[0].key: claim names are letters, digits, '_' or '-': '${a b}'")
    }

    @Test func anEmptyBucketGlobIsRefused() async {
        let yaml = Self.valid(replacing: "bucket: uploads", with: #"bucket: """#)
        let error = await Self.error(yaml)
        #expect(error == "callers[1].rules[0].bucket: a pattern must not be empty")
    }

    @Test func aFieldOfTheWrongTypeIsNamed() async {
        let error = await Self.error("workers: two\n" + Self.valid)
        #expect(error == "workers: expected Int")
    }

    @Test func anEmptyFileIsRefused() async {
        let error = await Self.error("")
        #expect(error == "the file is empty")
    }
}
