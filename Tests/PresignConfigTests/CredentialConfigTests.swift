import Foundation
import PresignConfig
import PresignCore
import S3Signing
import Testing

/// `backends.NAME.credentials`: exactly one way to get keys per backend, each mistake one error at its path.
struct CredentialConfigTests {
    static let staticKeys = "access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY"
    static let fileJSON = #"{"AccessKeyId":"ASIAFILE","SecretAccessKey":"file-secret","Token":"file-token","Expiration":"2026-11-18T11:36:40Z"}"#

    static func yaml(_ backend: String, rule: String = "") -> String {
        ConfigLoaderTests.valid(replacing: staticKeys, with: backend)
            .replacingOccurrences(of: "max_expires_in: 3600}", with: "max_expires_in: 3600\(rule)}")
    }

    static func error(_ backend: String, rule: String = "", files: [String: String] = ["/run/creds.json": fileJSON]) async -> String? {
        await ConfigLoaderTests.error(yaml(backend, rule: rule), files: files)
    }

    @Test(arguments: [
        ("\(staticKeys), credentials: {file: /run/creds.json}",
         "backends.main.credentials: give static keys (access_key_*/secret_key_*) or credentials:, not both"),
        ("access_key_env: S3_ACCESS_KEY, credentials: {file: /run/creds.json}",
         "backends.main.credentials: give static keys (access_key_*/secret_key_*) or credentials:, not both"),
        ("credentials: {}", "backends.main.credentials: give exactly one of file, container_endpoint or web_identity"),
        ("credentials: {file: /run/creds.json, container_endpoint: \"http://127.0.0.1:9/c\"}",
         "backends.main.credentials: give exactly one of file, container_endpoint or web_identity"),
        ("credentials: {file: /run/creds.json, authorization_token_file: /t}",
         "backends.main.credentials.authorization_token_file: only goes with container_endpoint"),
        ("credentials: {file: /run/creds.json, refresh_margin_seconds: 0}",
         "backends.main.credentials.refresh_margin_seconds: must be between 1 and 3600; got 0"),
        ("credentials: {file: /run/missing.json}", "backends.main.credentials.file: cannot read credentials file /run/missing.json"),
        ("credentials: {fil: /run/creds.json}", "backends.main.credentials.fil: unknown field"),
        ("credentials: {container_endpoint: \"http://10.0.0.1/creds\"}",
         "backends.main.credentials.container_endpoint: host '10.0.0.1' is not loopback or link-local (127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)"),
        ("credentials: {container_endpoint: \"https://creds.example.com/v1\"}",
         "backends.main.credentials.container_endpoint: host 'creds.example.com' is not loopback or link-local (127.0.0.0/8, ::1, localhost, 169.254.0.0/16, fe80::/10, fd00:ec2::23)"),
        ("credentials: {container_endpoint: \"http://user@127.0.0.1/c\"}",
         "backends.main.credentials.container_endpoint: must be an http:// or https:// URL with no user part, of visible ASCII (at most 2048 bytes)"),
        ("credentials: {container_endpoint: \"ftp://127.0.0.1/c\"}",
         "backends.main.credentials.container_endpoint: must be an http:// or https:// URL with no user part, of visible ASCII (at most 2048 bytes)"),
        ("credentials: {web_identity: {role_arn: presignd, token_file: /t}}",
         "backends.main.credentials.web_identity.role_arn: must be a role ARN (arn:aws:iam::ACCOUNT:role/NAME)"),
        ("credentials: {web_identity: {role_arn: \"arn:aws:iam::1:role/r\", token_file: /t, duration_seconds: 899}}",
         "backends.main.credentials.web_identity.duration_seconds: must be between 900 and 43200; got 899"),
        ("credentials: {web_identity: {role_arn: \"arn:aws:iam::1:role/r\", token_file: /t, sts_endpoint: \"http://sts.example.com\"}}",
         "backends.main.credentials.web_identity.sts_endpoint: must be https (http only to a loopback host)"),
        ("credentials: {web_identity: {role_arn: \"arn:aws:iam::1:role/r\", token_file: /t, session_name: \"a b\"}}",
         "backends.main.credentials.web_identity.session_name: must be 2 to 64 of A-Z a-z 0-9 and +=,.@_-"),
        ("credentials: {refresh_margin_seconds: 900, web_identity: {role_arn: \"arn:aws:iam::1:role/r\", token_file: /t, duration_seconds: 900}}",
         "backends.main.credentials.refresh_margin_seconds: must be under web_identity.duration_seconds (900)"),
        ("credentials: {web_identity: {role_arn: \"arn:aws:iam::1:role/r\"}}",
         "backends.main.credentials.web_identity.token_file: required field is missing"),
    ])
    func refused(_ backend: String, _ message: String) async {
        #expect(await Self.error(backend) == message)
    }

    @Test func aMalformedFileFailsTheLoadWithItsPath() async {
        #expect(await Self.error("credentials: {file: /run/creds.json}", files: ["/run/creds.json": #"{"AccessKeyId":"A"}"#])
            == "backends.main.credentials.file: /run/creds.json: SecretAccessKey is missing")
    }

    @Test func minExpiresInIsBoundedByMaxExpiresIn() async {
        #expect(await Self.error("credentials: {file: /run/creds.json}", rule: ", min_expires_in: 3601")
            == "callers[0].rules[0].min_expires_in: is over max_expires_in (3600)")
        #expect(await Self.error("credentials: {file: /run/creds.json}", rule: ", min_expires_in: 0")
            == "callers[0].rules[0].min_expires_in: must be between 1 and 31536000; got 0")
    }

    @Test func aFileSourceIsReadAtLoadIntoAPlainDescription() async throws {
        let secrets = SecretSource(environment: ConfigLoaderTests.environment, readFile: { $0 == "/run/creds.json" ? Self.fileJSON : nil })
        let config = try await ConfigLoader.load(
            yaml: Self.yaml("credentials: {file: /run/creds.json, refresh_margin_seconds: 120}", rule: ", min_expires_in: 60"), secrets: secrets)
        let backend = config.backends["main"]!
        #expect(backend.signature == .v4)
        #expect(backend.credentials == RotatingCredentials(
            source: .file(path: "/run/creds.json"), margin: 120,
            initial: CredentialSet(credentials: Credentials(accessKeyId: "ASIAFILE", secretAccessKey: "file-secret", sessionToken: "file-token"),
                                   expiration: 1_795_001_800)))
        #expect(config.callers[0].rules[0].minExpiresIn == 60)
    }

    @Test func aRemoteSourceHasNoSetAtLoad() async throws {
        let config = try await ConfigLoader.load(
            yaml: Self.yaml("credentials: {container_endpoint: \"http://169.254.170.2/v2/credentials/abc\", authorization_token_file: /run/token}"),
            secrets: SecretSource(environment: ConfigLoaderTests.environment))
        #expect(config.backends["main"]!.credentials == RotatingCredentials(
            source: .container(url: "http://169.254.170.2/v2/credentials/abc", authorizationTokenFile: "/run/token"), margin: 300))
        #expect(config.backends["main"]!.presigner.credentials == Credentials(accessKeyId: "", secretAccessKey: ""))
    }

    @Test(arguments: ["http://127.0.0.1:8080/c", "http://[::1]:9/c", "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/c",
                      "https://localhost/c", "http://[fe80::1]/c"])
    func linkLocalAndLoopbackEndpointsLoad(_ url: String) async {
        #expect(await Self.error("credentials: {container_endpoint: \"\(url)\"}") == nil)
    }

    @Test func webIdentityDefaults() async throws {
        let config = try await ConfigLoader.load(
            yaml: Self.yaml("credentials: {web_identity: {role_arn: \"arn:aws:iam::123456789012:role/presignd\", token_file: /var/run/token}}"),
            secrets: SecretSource(environment: ConfigLoaderTests.environment))
        #expect(config.backends["main"]!.credentials?.source == .webIdentity(.init(
            roleArn: "arn:aws:iam::123456789012:role/presignd", tokenFile: "/var/run/token", stsEndpoint: "https://sts.amazonaws.com",
            sessionName: "presignd-main", durationSeconds: 3600)))
        #expect(config.backends["main"]!.credentials?.margin == 300)
    }
}
