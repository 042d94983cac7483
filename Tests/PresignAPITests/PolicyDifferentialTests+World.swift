import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore
import TestSupport

// MARK: Worlds: backends, one JWT caller, random rules

/// What the oracle knows about a rule: the config as written, nothing compiled by presignd.
struct RuleSpec {
    var operations: [String]
    var bucket: String
    var key: String
    var backend: String?
    var maxExpiresIn: Int64
    var contentTypes: [String]?
    var maxContentLength: Int64?

    var yaml: String {
        var parts = [
            "operations: [\(operations.joined(separator: ", "))]", "bucket: \"\(bucket)\"", "key: \"\(key)\"",
            "max_expires_in: \(maxExpiresIn)",
        ]
        if let backend { parts.append("backend: \(backend)") }
        if let types = contentTypes { parts.append("content_types: [\(types.map { "\"\($0)\"" }.joined(separator: ", "))]") }
        if let max = maxContentLength { parts.append("max_content_length: \(max)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}

struct World {
    static let backends: [(name: String, yaml: String)] = [
        ("main", #"{endpoint: "http://127.0.0.1:8333", dialect: aws-v4, region: us-east-1, addressing: path, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}"#),
        ("legacy", #"{endpoint: "http://127.0.0.1:8334", dialect: aws-v2, addressing: path, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}"#),
        ("virtual", #"{endpoint: "http://s3.example.test:8335", dialect: aws-v4, region: eu-west-1, addressing: virtual, access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}"#),
    ]
    static let objectOperations = ["get", "head", "put", "delete", "get_acl", "put_acl", "post_object"]
    static let wideOperations = S3Operation.allCases.filter { $0.scope != .object }.map(\.rawValue)
    static let bucketGlobs = ["media", "*", "med*", "${sub}-files", "drop", "*a"]
    static let keyGlobs = [
        "*", "**", "public/*", "public/*.png", "users/${sub}/*", "users/${sub}/*.png", "exact.txt", "*/thumb/*",
        "docs/*.pdf", "in*box/*", "public/*/*",
    ]
    static let ruleTypes = ["image/*", "image/png", "text/*", "*/*", "image/svg+xml", "application/json", "text/html"]

    var sub: String
    var rules: [RuleSpec]

    var rulesYAML: String { "[" + rules.map(\.yaml).joined(separator: ", ") + "]" }

    static func random(_ random: inout SplitMix64) -> World {
        let sub = random.pick(["42", "43", "ab"])
        var rules: [RuleSpec] = []
        for _ in 0..<(1 + Int(random.next() % 3)) {
            var operations: [String] = []
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let operation = random.chance(80) ? random.pick(objectOperations) : random.pick(wideOperations)
                if !operations.contains(operation) { operations.append(operation) }
            }
            rules.append(RuleSpec(
                operations: operations, bucket: random.pick(bucketGlobs), key: random.pick(keyGlobs),
                backend: random.chance(20) ? random.pick(backends.map(\.name)) : nil,
                maxExpiresIn: random.pick([60, 600, 3600, 604_800]),
                contentTypes: random.chance(55) ? Array(Set((0..<(1 + Int(random.next() % 2))).map { _ in random.pick(ruleTypes) })).sorted() : nil,
                maxContentLength: random.chance(40) ? random.pick([0, 1000, 5_000_000]) : nil))
        }
        return World(sub: sub, rules: rules)
    }

    func yaml(_ rules: [RuleSpec]) -> String {
        """
        backends:
        \(Self.backends.map { "  \($0.name): \($0.yaml)" }.joined(separator: "\n"))
        callers:
          - name: random
            auth: {jwt: {issuer: "https://hs.example.com", audience: app, hs256_secret_env: HS_SECRET}}
            rules: [\(rules.map(\.yaml).joined(separator: ", "))]
        """
    }

    /// Loads the world. A rule that limits keys but lists a bucket- or service-wide operation must be refused by
    /// name; the world then goes on with those operations dropped from it (the oracle still judges every grant).
    func load(seed: UInt64, world: Int) async throws -> (ServiceConfig, [RuleSpec]) {
        let secrets = SecretSource(environment: Fixture.environment)
        do {
            return (try await ConfigLoader.load(yaml: yaml(rules), secrets: secrets), rules)
        } catch {
            let offending = rules.firstIndex { rule in
                !Glob.isAllStars(rule.key) && rule.operations.contains { Self.wideOperations.contains($0) }
            }
            let expected = offending.map { "callers[0].rules[\($0)].key" }
            #expect(error.path == expected, "seed 0x\(String(seed, radix: 16)) world \(world): \(error)")
            var narrowed = rules
            for index in narrowed.indices where !Glob.isAllStars(narrowed[index].key) {
                narrowed[index].operations.removeAll { Self.wideOperations.contains($0) }
                if narrowed[index].operations.isEmpty { narrowed[index].operations = ["get"] }
            }
            return (try await ConfigLoader.load(yaml: yaml(narrowed), secrets: secrets), narrowed)
        }
    }
}

// MARK: Requests

struct RandomRequest {
    var operation: String
    var backend: String
    var json: String

    static let keyFillers = ["a", "evil.html", "x/y", "", "${filename}", "./a", "${filename}.png", "a.png", "../b", "a//b"]
    static let contentTypes = [
        "image/png", "IMAGE/PNG", "image/png, text/html", "image/png; a=b, text/html", "image/png; charset=\"a,b\"",
        "image/svg+xml", "text/html", "text/plain", "image/", "application/json", "image/png;", "text/html;x=\"y\"",
    ]

    /// A literal that a glob (after `${sub}`) matches, with random text where its stars are.
    static func instance(of glob: String, sub: String, _ random: inout SplitMix64) -> String {
        var out = ""
        for character in glob.replacingOccurrences(of: "${sub}", with: sub) {
            out += character == "*" ? random.pick(keyFillers) : String(character)
        }
        return out
    }

    static func random(_ random: inout SplitMix64, world: World) -> RandomRequest {
        // Forms are the subtle grants, so a fifth of requests ask a rule that allows them for one.
        let formRules = world.rules.filter { $0.operations.contains("post_object") }
        let wantsForm = !formRules.isEmpty && random.chance(20)
        let rule = wantsForm ? random.pick(formRules) : random.pick(world.rules)
        let operation = wantsForm ? "post_object"
            : random.chance(75) ? random.pick(rule.operations) : random.pick(World.objectOperations + World.wideOperations)
        let backend = rule.backend ?? random.pick(World.backends.map(\.name))
        var fields: [(String, String)] = [("operation", quote(operation)), ("backend", quote(backend))]
        let scope: S3Operation.Scope = operation == "post_object" ? .object : S3Operation(rawValue: operation)!.scope
        if scope != .service {
            var bucket = random.chance(70) ? instance(of: rule.bucket, sub: world.sub, &random) : random.pick(["media", "drop", "42-files", "medx"])
            if bucket.isEmpty || bucket.contains("/") || bucket.contains(".") || bucket.contains("$") { bucket = "media" }
            fields.append(("bucket", quote(bucket)))
        }
        if scope == .object {
            var key = random.chance(75) ? instance(of: rule.key, sub: world.sub, &random)
                : random.pick(["public/a.png", "public/${filename}", "users/42/a.png", "users/43/${filename}", "public/./a.png", "exact.txt"])
            if operation == "post_object", random.chance(40) {
                // A form that leaves the file name to the uploader, where the rule's glob seems to allow one.
                let stem = rule.key.lastIndex(of: "*").map { String(rule.key[..<$0]) } ?? rule.key
                key = instance(of: stem, sub: world.sub, &random) + "${filename}"
            }
            fields.append(("key", quote(key)))
        }
        if random.chance(40) { fields.append(("expires_in", String(random.pick([30, 600, 3601, 604_800])))) }
        if operation == "put" || operation == "post_object" || (operation == "put_acl" && random.chance(30)) {
            if random.chance(80) {
                fields.append(("content_type", quote(random.pick(contentTypes))))
            } else if operation == "post_object" {
                fields.append(("content_type_prefix", quote(random.pick(["image/", "image/p", "", "text/", "i"]))))
            }
        }
        if operation == "put", random.chance(60) {
            fields.append(("content_length", String(random.pick([0, 1000, 1001, 5_000_000]))))
        }
        if operation == "post_object", random.chance(60) {
            fields.append(("content_length_range", random.pick(["[0,1000]", "[1,1001]", "[0,5000000]", "[5,5]"])))
        }
        if operation == "get" || operation == "head", random.chance(40) {
            var overrides: [String] = []
            if random.chance(70) {
                overrides.append(#""content_type":"# + quote(random.pick(["text/html", "image/png", "image/svg+xml", "image/png, text/html", "text/plain"])))
            }
            if random.chance(50) {
                overrides.append(#""content_disposition":"# + quote(random.pick(["attachment", "attachment\r\nX-Evil: 1", "inline; filename=\"a.png\"", "a\u{0}b"])))
            }
            fields.append(("response", "{" + overrides.joined(separator: ",") + "}"))
        }
        let json = "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
        return RandomRequest(operation: operation, backend: backend, json: json)
    }

    static func quote(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }
}
