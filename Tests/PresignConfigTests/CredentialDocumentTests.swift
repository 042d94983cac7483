import PresignConfig
import S3Signing
import Testing

/// The credential documents: what AWS writes parses to exactly one set; anything hostile or malformed is refused
/// with a message that names the field and never echoes a secret.
struct CredentialDocumentTests {
    static func json(_ text: String, requireExpiration: Bool = false) -> Result<CredentialSet, CredentialDocument.ParseError> {
        Result { () throws(CredentialDocument.ParseError) in try CredentialDocument.parseJSON(Array(text.utf8), requireExpiration: requireExpiration) }
    }

    static func file(_ bytes: [UInt8]) -> Result<CredentialSet, CredentialDocument.ParseError> {
        Result { () throws(CredentialDocument.ParseError) in try CredentialDocument.parseFile(bytes) }
    }

    static func failure(_ result: Result<CredentialSet, CredentialDocument.ParseError>) -> String? {
        if case .failure(let error) = result { return error.message }
        return nil
    }

    @Test func containerDocumentAsTheAgentWritesIt() throws {
        let set = try Self.json("""
            {"AccessKeyId":"ASIAEXAMPLE","Expiration":"2026-11-18T11:16:40Z","RoleArn":"arn:aws:iam::1:role/r",
             "SecretAccessKey":"wJalr/XUtnFEMI+K7MDENG","Token":"IQoJb3JpZ2luX2VjE//token=="}
            """, requireExpiration: true).get()
        #expect(set == CredentialSet(
            credentials: Credentials(accessKeyId: "ASIAEXAMPLE", secretAccessKey: "wJalr/XUtnFEMI+K7MDENG", sessionToken: "IQoJb3JpZ2luX2VjE//token=="),
            expiration: 1_795_000_600))
    }

    @Test func credentialProcessShapeWithSessionTokenAndFraction() throws {
        let set = try Self.json(#"{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"S","SessionToken":"T","Expiration":"2026-11-18T11:16:40.123Z"}"#).get()
        #expect(set.credentials.sessionToken == "T")
        #expect(set.expiration == 1_795_000_600)
    }

    @Test func staticJSONWithoutTokenOrExpiry() throws {
        let set = try Self.file(Array("  \n{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\"}".utf8)).get()
        #expect(set == CredentialSet(credentials: Credentials(accessKeyId: "AK", secretAccessKey: "S"), expiration: nil))
    }

    @Test(arguments: [
        (#"{"AccessKeyId":5,"SecretAccessKey":"S"}"#, "AccessKeyId must be a string"),
        (#"{"AccessKeyId":"AK"}"#, "SecretAccessKey is missing"),
        (#"{"SecretAccessKey":"S"}"#, "AccessKeyId is missing"),
        (#"{"AccessKeyId":"","SecretAccessKey":"S"}"#, "AccessKeyId is empty"),
        (#"{"AccessKeyId":"A K","SecretAccessKey":"S"}"#, "AccessKeyId must be visible ASCII with no spaces"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S\u00e9"}"#, "SecretAccessKey must be visible ASCII with no spaces"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S","Token":["x"]}"#, "Token must be a string"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S","Token":"a","SessionToken":"b"}"#, "give Token or SessionToken, not both"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S","Expiration":"2026-13-01T00:00:00Z"}"#,
         "Expiration '2026-13-01T00:00:00Z' is not an ISO 8601 UTC time (2006-01-02T15:04:05Z)"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S","Expiration":"2026-11-18T11:16:40+02:00"}"#,
         "Expiration '2026-11-18T11:16:40+02:00' is not an ISO 8601 UTC time (2006-01-02T15:04:05Z)"),
        (#"{"AccessKeyId":"AK","SecretAccessKey":"S","Expiration":1795000600}"#, "Expiration must be a string"),
        (#"{"Code":"Failure","Message":"role not found"}"#, "the endpoint answered Code Failure: role not found"),
        (#"["AccessKeyId"]"#, "expected a JSON object"),
        (#"{"AccessKeyId":"AK","AccessKeyId":"AK2","SecretAccessKey":"S"}"#, "not valid JSON: duplicate member 'AccessKeyId'"),
    ])
    func refusedJSON(_ text: String, _ message: String) {
        #expect(Self.failure(Self.json(text)) == message)
    }

    @Test func remoteSourcesNeedAnExpiry() {
        #expect(Self.failure(Self.json(#"{"AccessKeyId":"AK","SecretAccessKey":"S","Token":"T"}"#, requireExpiration: true)) == "Expiration is missing")
    }

    @Test func hugeAndDeepDocumentsAreRefused() {
        let huge = Array("{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\",\"Pad\":\"".utf8) + Array(repeating: UInt8(ascii: "a"), count: 70_000) + Array("\"}".utf8)
        #expect(Self.failure(Self.file(huge)) == "the document is over 65536 bytes")
        let deep = "{\"AccessKeyId\":" + String(repeating: "[", count: 40) + String(repeating: "]", count: 40) + "}"
        #expect(Self.failure(Self.json(deep))?.hasPrefix("not valid JSON: ") == true)
        let longToken = "{\"AccessKeyId\":\"AK\",\"SecretAccessKey\":\"S\",\"Token\":\"" + String(repeating: "t", count: 16 * 1024 + 1) + "\"}"
        #expect(Self.failure(Self.json(longToken)) == "Token is over 16384 bytes")
    }

    @Test func iniDefaultSectionWithTokenAndExpiry() throws {
        let set = try Self.file(Array("""
            # written by the sidecar
            [other]
            aws_access_key_id = NOPE
            aws_secret_access_key = NOPE

            [default]
            aws_access_key_id = ASIAINI
            aws_secret_access_key=secret/INI+
            aws_session_token =  tok==\r
            expiration = 2026-11-18T11:16:40Z
            region = eu-west-1
            """.utf8)).get()
        #expect(set == CredentialSet(
            credentials: Credentials(accessKeyId: "ASIAINI", secretAccessKey: "secret/INI+", sessionToken: "tok=="), expiration: 1_795_000_600))
    }

    @Test func iniSingleSectionOrNoSection() throws {
        #expect(try Self.file(Array("[profile app]\naws_access_key_id=A\naws_secret_access_key=B\n".utf8)).get().credentials.accessKeyId == "A")
        #expect(try Self.file(Array("aws_access_key_id=A\naws_secret_access_key=B".utf8)).get().credentials.secretAccessKey == "B")
    }

    @Test(arguments: [
        ("[a]\naws_access_key_id=A\naws_secret_access_key=B\n[b]\naws_access_key_id=C\naws_secret_access_key=D\n", "several sections and no [default]"),
        ("[default]\naws_access_key_id=A\n", "aws_secret_access_key is missing"),
        ("[default]\naws_access_key_id=A\naws_access_key_id=B\n", "line 3: aws_access_key_id appears twice"),
        ("[default]\nthis is not ini\n", "line 2: expected key = value"),
        ("[default\naws_access_key_id=A\n", "line 1: a section is [name]"),
        ("[default]\n[default]\n", "line 2: section [default] appears twice"),
        ("", "aws_access_key_id is missing"),
        ("[default]\naws_access_key_id=A\naws_secret_access_key=B\nexpiration=tomorrow\n",
         "expiration 'tomorrow' is not an ISO 8601 UTC time (2006-01-02T15:04:05Z)"),
    ])
    func refusedINI(_ text: String, _ message: String) {
        #expect(Self.failure(Self.file(Array(text.utf8))) == message)
    }

    @Test func invalidUTF8IsRefused() {
        #expect(Self.failure(Self.file([0x61, 0xFF, 0x3D, 0x62])) == "not UTF-8 text")
    }
}
