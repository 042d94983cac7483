import Foundation
import S3Client
import Testing

/// STS AssumeRoleWithWebIdentity: the exact form, and the XML answer read strictly (bounded, no DTD, shallow,
/// every field once).
struct STSDocumentsTests {
    static func parse(_ text: String) -> Result<STSWebIdentity.Answer, S3XML.ParseError> {
        Result { () throws(S3XML.ParseError) in try STSWebIdentity.parse(Array(text.utf8)) }
    }

    static let success = """
        <AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <AssumeRoleWithWebIdentityResult>
            <SubjectFromWebIdentityToken>system:serviceaccount:default:presignd</SubjectFromWebIdentityToken>
            <AssumedRoleUser>
              <Arn>arn:aws:sts::123456789012:assumed-role/presignd/presignd-main</Arn>
              <AssumedRoleId>AROACLKWSDQRAOEXAMPLE:presignd-main</AssumedRoleId>
            </AssumedRoleUser>
            <Credentials>
              <SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>
              <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
              <Expiration>2026-11-18T12:06:40Z</Expiration>
              <AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>
            </Credentials>
            <Provider>oidc.eks.example.com</Provider>
          </AssumeRoleWithWebIdentityResult>
          <ResponseMetadata><RequestId>ad4156e9-bce1-11e2-82e6-6b6efEXAMPLE</RequestId></ResponseMetadata>
        </AssumeRoleWithWebIdentityResponse>
        """

    @Test func theDocumentedAnswer() throws {
        #expect(try Self.parse(Self.success).get() == .credentials(
            accessKeyId: "ASgeIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
            sessionToken: "AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE", expiration: "2026-11-18T12:06:40Z"))
    }

    @Test func anErrorResponse() throws {
        let text = """
            <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
              <Error><Type>Sender</Type><Code>InvalidIdentityToken</Code><Message>Token expired</Message></Error>
              <RequestId>1</RequestId>
            </ErrorResponse>
            """
        #expect(try Self.parse(text).get() == .error(code: "InvalidIdentityToken", message: "Token expired"))
    }

    @Test(arguments: [
        (success.replacingOccurrences(of: "<SessionToken>AQoDYXdzEE0a8ANXXXXXXXXNO1ewxE5TijQyp+IEXAMPLE</SessionToken>", with: ""),
         "expected one Credentials/SessionToken"),
        (success.replacingOccurrences(of: "<AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId>",
                                      with: "<AccessKeyId>A</AccessKeyId><AccessKeyId>B</AccessKeyId>"),
         "expected one Credentials/AccessKeyId"),
        (success.replacingOccurrences(of: "<Expiration>2026-11-18T12:06:40Z</Expiration>", with: "<Expiration><x>1</x></Expiration>"),
         "Credentials/Expiration must be text"),
        ("<AssumeRoleResponse/>", "expected <AssumeRoleWithWebIdentityResponse> or <ErrorResponse>, got <AssumeRoleResponse>"),
        ("<AssumeRoleWithWebIdentityResponse></AssumeRoleWithWebIdentityResponse>", "expected one AssumeRoleWithWebIdentityResult"),
        ("<ErrorResponse/>", "ErrorResponse without Error"),
        ("<!DOCTYPE x [<!ENTITY a \"b\">]><ErrorResponse/>", "XML with a DOCTYPE is refused"),
        ("<AssumeRoleWithWebIdentityResponse><unclosed>", "not well-formed XML"),
        ("", "empty XML document"),
        (String(repeating: "<a>", count: 40) + String(repeating: "</a>", count: 40), "XML nested deeper than 32 levels"),
    ])
    func refused(_ text: String, _ message: String) {
        guard case .failure(let error) = Self.parse(text) else { Issue.record("parsed: \(text.prefix(60))"); return }
        #expect(error.message == message)
    }

    @Test func aHugeAnswerIsRefusedBeforeParsing() {
        let huge = "<ErrorResponse>" + String(repeating: " ", count: 70_000) + "</ErrorResponse>"
        guard case .failure(let error) = Self.parse(huge) else { Issue.record("parsed"); return }
        #expect(error.message == "the STS answer is over 65536 bytes")
    }

    @Test func theFormIsExact() {
        let form = String(decoding: STSWebIdentity.form(
            roleArn: "arn:aws:iam::123456789012:role/presignd", sessionName: "presignd-main", token: "eyJ.a+b/c=", durationSeconds: 3600),
            as: UTF8.self)
        #expect(form == "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fpresignd"
            + "&RoleSessionName=presignd-main&WebIdentityToken=eyJ.a%2Bb%2Fc%3D&DurationSeconds=3600")
    }
}
