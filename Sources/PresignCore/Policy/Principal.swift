/// Who asks, as the policy engine sees them: the caller's name, its rules, and the claims of its token (`sub`,
/// and the claims rules name as `${claim}`). How the caller proved it is the service's concern, not the engine's.
public struct Principal: Sendable {
    public let name: String
    public let rules: [PolicyRule]
    public let claims: [String: String]

    public init(name: String, rules: [PolicyRule], claims: [String: String]) {
        self.name = name
        self.rules = rules
        self.claims = claims
    }

    /// The JWT subject, when the caller has one.
    public var subject: String? { claims["sub"] }
}
