import S3Signing
import JSONKit

/// STS `AssumeRoleWithWebIdentity`: the form presignd posts and the XML it reads back, bounded and strict
/// (`S3XML`'s reader: no DTD, the parser's bounds, local names, only the fields used kept).
public enum STSWebIdentity {
    /// The largest answer read.
    public static let maxBytes = 64 * 1024

    /// The request body (`application/x-www-form-urlencoded`), as the STS API reference gives it.
    public static func form(roleArn: String, sessionName: String, token: String, durationSeconds: Int) -> [UInt8] {
        let fields = [
            ("Action", "AssumeRoleWithWebIdentity"), ("Version", "2011-06-15"), ("RoleArn", roleArn),
            ("RoleSessionName", sessionName), ("WebIdentityToken", token), ("DurationSeconds", String(durationSeconds)),
        ]
        return Array(fields.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&").utf8)
    }

    public enum Answer: Sendable, Equatable {
        case credentials(accessKeyId: String, secretAccessKey: String, sessionToken: String, expiration: String)
        /// `ErrorResponse/Error`: STS's code and message.
        case error(code: String, message: String)
    }

    static let credentialFields = ["AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"]
    static let schema = S3XML.Schema([
        "ErrorResponse": ["Error/Code", "Error/Message"],
        "AssumeRoleWithWebIdentityResponse": credentialFields.map { "AssumeRoleWithWebIdentityResult/Credentials/\($0)" },
    ])

    /// `AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/Credentials`, or `ErrorResponse/Error`.
    /// Every credential field must be there, once, as text.
    public static func parse(_ xml: [UInt8]) throws(S3XML.ParseError) -> Answer {
        guard xml.count <= maxBytes else { throw S3XML.ParseError(message: "the STS answer is over \(maxBytes) bytes") }
        let root = try S3XML.read(xml, schema)
        switch root.name {
        case "ErrorResponse":
            guard let error = root.child("Error") else { throw S3XML.ParseError(message: "ErrorResponse without Error") }
            return .error(code: error.text("Code") ?? "", message: error.text("Message") ?? "")
        case "AssumeRoleWithWebIdentityResponse":
            let results = root.children("AssumeRoleWithWebIdentityResult")
            guard results.count == 1 else { throw S3XML.ParseError(message: "expected one AssumeRoleWithWebIdentityResult") }
            let sets = results[0].children("Credentials")
            guard sets.count == 1 else { throw S3XML.ParseError(message: "expected one Credentials") }
            func field(_ name: String) throws(S3XML.ParseError) -> String {
                let found = sets[0].children(name)
                guard found.count == 1 else { throw S3XML.ParseError(message: "expected one Credentials/\(name)") }
                guard found[0].elementCount == 0 else { throw S3XML.ParseError(message: "Credentials/\(name) must be text") }
                return String(ASCII.trimmed(found[0].text[...]))
            }
            return .credentials(
                accessKeyId: try field("AccessKeyId"), secretAccessKey: try field("SecretAccessKey"),
                sessionToken: try field("SessionToken"), expiration: try field("Expiration"))
        default:
            throw S3XML.ParseError(message: "expected <AssumeRoleWithWebIdentityResponse> or <ErrorResponse>, got <\(root.name)>")
        }
    }
}
