import HTTPServer
import JSONKit
import S3Client
import S3Signing

/// One authorized admin request with its backend connection chosen: what every operation starts from.
struct AdminCall {
    let request: HTTPRequest
    let context: ResponseContext
    let connection: S3fmAuthConnection
    let query: [(name: String, value: String?)]
    /// The signing time of every backend request this call makes.
    let now: SigningTime

    init(request: HTTPRequest, context: ResponseContext, connection: S3fmAuthConnection,
         query: [(name: String, value: String?)], now: SigningTime) {
        self.request = request
        self.context = context
        self.connection = connection
        self.query = query
        self.now = now
    }

    /// The `{bucket}` path parameter ("" on routes without one).
    var bucket: String { request.parameters["bucket"] ?? "" }
    /// The `{key...}` path parameter, nil on bucket routes (the audit line says `null` there).
    var objectKey: String? { request.parameters["key"] }
    var key: String { objectKey ?? "" }

    /// `?acl` turns an object's GET and PUT into its ACL's.
    var hasACL: Bool { query.contains { ASCII.same($0.name, "acl") } }

    /// A query parameter's value: "" when it is given without `=`, nil when absent.
    func param(_ name: String) -> String? { Self.param(name, in: query) }

    static func param(_ name: String, in query: [(name: String, value: String?)]) -> String? {
        query.first { ASCII.same($0.name, name) }.flatMap { $0.value ?? "" }
    }

    static func queryItems(_ query: Substring) -> [(name: String, value: String?)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { item in
            if let equals = item.firstIndex(of: "=") {
                return (Router.percentDecode(item[..<equals]) ?? "", Router.percentDecode(item[item.index(after: equals)...]))
            }
            return (Router.percentDecode(item) ?? "", nil)
        }
    }
}
