import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore

/// Random rules and random requests through the real `PresignService`; every artefact it signs is taken apart the
/// way S3 would read it (URL, signed headers, POST policy conditions), and every request S3 would then accept must
/// be inside what one rule of the caller allows. The oracle below is written from the rules' documented meaning,
/// not from `PolicyEngine`, so the two disagree exactly where a grant is wider than its rule.
///
/// The seed is printed as `PolicyDifferentialTests seed=0x…`; set `PRESIGND_POLICY_SEED` (hex or decimal) to
/// replay one run.
struct PolicyDifferentialTests {
    /// 3,000 requests: about 1.5 s in a debug build.
    static let worlds = 120
    static let requestsPerWorld = 25

    @Test func everySignedArtefactStaysInsideTheRuleThatAllowedIt() async throws {
        let seed = Self.seed()
        print("PolicyDifferentialTests seed=0x\(String(seed, radix: 16)) (replay with PRESIGND_POLICY_SEED=0x\(String(seed, radix: 16)))")
        var random = SplitMix64(seed: seed)
        var stats = Stats()
        var violations: [String] = []
        var tally: [String: Int] = [:]
        for world in 0..<Self.worlds {
            var generated = World.random(&random)
            let (config, rules) = try await generated.load(seed: seed, world: world)
            generated.rules = rules
            let service = Fixture.service(config)
            let token = try await Fixture.hs256Token(Fixture.claims(sub: generated.sub, iss: "https://hs.example.com", aud: "app"))
            let oracle = Oracle(rules: rules, sub: generated.sub, now: Int64(Fixture.now))
            for index in 0..<Self.requestsPerWorld {
                let request = RandomRequest.random(&random, world: generated)
                let response = service.respond(Fixture.request(
                    "POST", "/v1/presign", body: request.json, headers: [("Authorization", "Bearer \(token)")]))
                stats.count(response.status.code)
                guard response.status.code == 200 else { continue }
                let problems = oracle.check(response.body, request: request, stats: &stats)
                for problem in problems {
                    let kind = Self.kind(of: problem)
                    tally[kind, default: 0] += 1
                    guard tally[kind]! <= 2 else { continue }
                    violations.append("seed 0x\(String(seed, radix: 16)) world \(world) request \(index)\n  rules: \(generated.rulesYAML)\n  request: \(request.json)\n  \(problem)")
                }
            }
        }
        print("PolicyDifferentialTests: \(stats)")
        let kinds = tally.keys.sorted().map { "\($0): \(tally[$0]!)" }.joined(separator: ", ")
        #expect(violations.isEmpty, "grants wider than their rule (\(kinds)); up to two of each:\n\(violations.joined(separator: "\n"))")
        // The run must have exercised each kind of artefact, or it proves nothing.
        #expect(stats.urls > 300)
        #expect(stats.forms >= 25)
        #expect(stats.filenameForms >= 5)
        #expect(stats.listings >= 8)
        #expect(stats.denied > 300)
    }

    /// What kind of widening a problem is, from the oracle's reasons (`rule 1: content type …; rule 2: operation`).
    static func kind(of problem: String) -> String {
        guard let range = problem.range(of: "every rule: ") ?? problem.range(of: " bytes: ") ?? problem.range(of: "any size: ") else {
            return "malformed"
        }
        let reasons = problem[range.upperBound...].prefix { $0 != "\n" }.components(separatedBy: "; ")
        let words = reasons.compactMap { reason -> String? in
            guard let colon = reason.range(of: ": ") else { return nil }
            let words = reason[colon.upperBound...].split(separator: " ")
            return words.prefix(["every", "content", "response", "dot"].contains(words.first ?? "") ? 2 : 1).joined(separator: " ")
        }
        return Set(words.filter { $0 != "operation" && !$0.hasPrefix("policy") }).sorted().joined(separator: "+")
    }

    static func seed() -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["PRESIGND_POLICY_SEED"] {
            if text.hasPrefix("0x"), let value = UInt64(text.dropFirst(2), radix: 16) { return value }
            if let value = UInt64(text) { return value }
        }
        return UInt64.random(in: 0...UInt64.max)
    }
}

// MARK: Random source

/// SplitMix64 (Steele, Lea and Flood, 2014): tiny, fast and good enough to drive a generator from a 64-bit seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
    mutating func chance(_ percent: UInt64) -> Bool { next() % 100 < percent }
}

struct Stats: CustomStringConvertible {
    var statuses: [Int: Int] = [:]
    var urls = 0
    var forms = 0
    var filenameForms = 0
    var listings = 0
    var denied: Int { statuses[403, default: 0] }

    mutating func count(_ status: Int) { statuses[status, default: 0] += 1 }

    var description: String {
        let codes = statuses.keys.sorted().map { "\($0): \(statuses[$0]!)" }.joined(separator: ", ")
        return "\(codes); urls \(urls), forms \(forms) (\(filenameForms) with ${filename}), bucket-wide \(listings)"
    }
}

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

// MARK: The oracle

/// Byte-wise glob with `*` matching any run of bytes; a table, not a clever matcher, so it is easy to believe.
enum Glob {
    static func matches(_ pattern: String, _ subject: String) -> Bool {
        let p = Array(pattern.utf8)
        let s = Array(subject.utf8)
        // reachable[j]: the pattern consumed so far matches s[0..<j].
        var reachable = [Bool](repeating: false, count: s.count + 1)
        reachable[0] = true
        for byte in p {
            var next = [Bool](repeating: false, count: s.count + 1)
            if byte == UInt8(ascii: "*") {
                var any = false
                for j in 0...s.count {
                    any = any || reachable[j]
                    next[j] = any
                }
            } else {
                for j in 0..<s.count where reachable[j] && s[j] == byte { next[j + 1] = true }
            }
            reachable = next
        }
        return reachable[s.count]
    }

    static func isAllStars(_ pattern: String) -> Bool { !pattern.isEmpty && pattern.allSatisfy { $0 == "*" } }
}

/// The media-type grammar of RFC 9110 §8.3.1 (space as the only whitespace), recognized byte by byte here, apart
/// from the production parser: `token "/" token *( " "* ";" " "* token "=" ( token / quoted-string ) )`.
/// (A Regex literal built at run time kept runtime boxes alive that LeakSanitizer reported under make test-asan.)
enum MediaType {
    static func isTokenByte(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || "!#$%&'*+.^_`|~-".utf8.contains(b)
    }

    static func matchesGrammar(_ text: String) -> Bool {
        let b = Array(text.utf8)
        var i = 0
        func token() -> Bool {
            let start = i
            while i < b.count, isTokenByte(b[i]) { i += 1 }
            return i > start
        }
        func quoted() -> Bool {
            guard i < b.count, b[i] == 0x22 else { return false }
            i += 1
            while i < b.count {
                let c = b[i]
                if c == 0x22 { i += 1; return true }
                if c == 0x5C {
                    guard i + 1 < b.count, b[i + 1] >= 0x20, b[i + 1] <= 0x7E else { return false }
                    i += 2
                } else if c == 0x20 || c == 0x21 || (c >= 0x23 && c <= 0x5B) || (c >= 0x5D && c <= 0x7E) {
                    i += 1
                } else {
                    return false
                }
            }
            return false
        }
        guard token(), i < b.count, b[i] == 0x2F else { return false }
        i += 1
        guard token() else { return false }
        while i < b.count {
            while i < b.count, b[i] == 0x20 { i += 1 }
            guard i < b.count, b[i] == 0x3B else { return false }
            i += 1
            while i < b.count, b[i] == 0x20 { i += 1 }
            guard token(), i < b.count, b[i] == 0x3D else { return false }
            i += 1
            let save = i
            if !token() {
                i = save
                guard quoted() else { return false }
            }
        }
        return true
    }

    /// `type/subtype` in lower case, when `text` is exactly one media type.
    static func essence(_ text: String) -> (type: String, subtype: String)? {
        guard text.utf8.count <= 256, matchesGrammar(text) else { return nil }
        let essence = text.prefix { $0 != ";" && $0 != " " }.lowercased()
        let parts = essence.split(separator: "/")
        return (String(parts[0]), String(parts[1]))
    }

    /// The documented decision: these can run script when served from the bucket's origin.
    static func isScriptCapable(_ type: String, _ subtype: String) -> Bool {
        ["html", "xml", "xsl", "script"].contains { subtype.contains($0) } || (type, subtype) == ("application", "x-shockwave-flash")
    }

    static func admitted(_ text: String, by patterns: [String]) -> Bool {
        // */* is "any type at all": even text that is not one media type.
        if patterns.contains("*/*") { return true }
        guard let media = essence(text) else { return false }
        return patterns.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern.hasSuffix("/*") { return pattern.dropLast(2) == media.type && !isScriptCapable(media.type, media.subtype) }
            return pattern == "\(media.type)/\(media.subtype)"
        }
    }

    static func isHeaderValue(_ text: String) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x20 && $0 < 0x7F) || $0 == 0x09 }
    }
}

/// One request S3 would accept with a signed artefact.
struct Grant {
    enum Keys { case one(String), everyKey }
    enum Buckets { case one(String), everyBucket }

    /// The operation names any one of which a rule must list (PUT /bucket creates it with or without a location).
    var operations: Set<String>
    var bucket: Buckets
    var keys: Keys
    var lifetime: Int64
    /// For uploads: the stored Content-Type; nil when the uploader can send none, "*" when it can send any.
    var contentType: String?
    /// For uploads: the largest body S3 takes (Int64.max when unbounded).
    var size: Int64
    /// For downloads: response-content-type and the other response-* values.
    var responseContentType: String?
    var responseValues: [String]
}

struct Oracle {
    let rules: [RuleSpec]
    let sub: String
    let now: Int64

    func resolve(_ glob: String) -> String { glob.replacingOccurrences(of: "${sub}", with: sub) }

    /// Nil when some rule allows the grant; otherwise why none does (the first rule's reason).
    func allowed(_ grant: Grant, backend: String, exactKey: Bool) -> String? {
        var reasons: [String] = []
        for (number, rule) in rules.enumerated() {
            func no(_ why: String) { reasons.append("rule \(number + 1): \(why)") }
            guard !grant.operations.isDisjoint(with: rule.operations) else { no("operation"); continue }
            if let pinned = rule.backend, pinned != backend { no("backend"); continue }
            switch grant.bucket {
            case .one(let name): guard Glob.matches(resolve(rule.bucket), name) else { no("bucket \(name)"); continue }
            case .everyBucket: guard Glob.isAllStars(rule.bucket) else { no("every bucket"); continue }
            }
            switch grant.keys {
            case .one(let key):
                guard Glob.matches(resolve(rule.key), key) else { no("key \(key)"); continue }
                let segments = key.split(separator: "/", omittingEmptySubsequences: false)
                guard !exactKey || !segments.contains(where: { $0 == "." || $0 == ".." }) else { no("dot segment in \(key)"); continue }
            case .everyKey: guard Glob.isAllStars(rule.key) else { no("every key under \(rule.key)"); continue }
            }
            guard grant.lifetime <= rule.maxExpiresIn else { no("lifetime \(grant.lifetime)"); continue }
            let upload = grant.operations.contains("put") || grant.operations.contains("post_object")
            if upload, let types = rule.contentTypes {
                guard let type = grant.contentType, type != "*", MediaType.admitted(type, by: types) else {
                    no("content type \(grant.contentType ?? "none")")
                    continue
                }
            }
            if upload, let max = rule.maxContentLength {
                guard grant.size <= max else { no("size \(grant.size)"); continue }
            }
            if let type = grant.responseContentType {
                if let types = rule.contentTypes {
                    guard MediaType.admitted(type, by: types) else { no("response type \(type)"); continue }
                } else {
                    guard let media = MediaType.essence(type), !MediaType.isScriptCapable(media.type, media.subtype) else {
                        no("response type \(type)")
                        continue
                    }
                }
            }
            guard grant.responseValues.allSatisfy(MediaType.isHeaderValue) else { no("response value"); continue }
            return nil
        }
        return reasons.joined(separator: "; ")
    }

    func check(_ body: [UInt8], request: RandomRequest, stats: inout Stats) -> [String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else { return ["answer is not JSON"] }
        if let fields = object["fields"] as? [String: String] {
            stats.forms += 1
            return checkForm(fields, request: request, stats: &stats)
        }
        guard let url = object["url"] as? String, let method = object["method"] as? String,
            let headers = object["headers"] as? [String: String]
        else { return ["answer has no url/method/headers"] }
        stats.urls += 1
        return checkURL(url, method: method, headers: headers, request: request, stats: &stats)
    }

    func checkURL(_ url: String, method: String, headers: [String: String], request: RandomRequest, stats: inout Stats) -> [String] {
        guard let components = URLComponents(string: url), let host = components.host else { return ["unparsable URL \(url)"] }
        let path = components.percentEncodedPath
        var query: [String: String?] = [:]
        for item in components.percentEncodedQueryItems ?? [] {
            // updateValue, not subscript assignment: a value-less `?acl` must stay in the map as .some(nil).
            query.updateValue(item.value.map { $0.removingPercentEncoding ?? $0 }, forKey: item.name.removingPercentEncoding ?? item.name)
        }
        // Bucket and key as the storage reads them from this backend's addressing.
        var bucket: String?
        var key: String
        if request.backend == "virtual" && host != "s3.example.test" {
            guard host.hasSuffix(".s3.example.test") else { return ["unexpected host \(host)"] }
            bucket = String(host.dropLast(".s3.example.test".count))
            key = String(path.dropFirst())
        } else {
            let rest = path.dropFirst()
            if rest.isEmpty {
                key = ""
            } else {
                let slash = rest.firstIndex(of: "/") ?? rest.endIndex
                bucket = String(rest[..<slash])
                key = slash == rest.endIndex ? "" : String(rest[rest.index(after: slash)...])
            }
        }
        guard let decodedKey = key.removingPercentEncoding else { return ["key is not percent-encoding: \(key)"] }
        key = decodedKey
        let subresource = ["acl", "location", "logging"].first { query[$0] != nil }
        let operations: Set<String>
        switch (method, bucket == nil, key.isEmpty, subresource) {
        case ("GET", true, _, nil): operations = ["list_all_my_buckets"]
        case ("GET", false, true, nil): operations = ["list_bucket"]
        case ("GET", false, true, "acl"): operations = ["get_bucket_acl"]
        case ("GET", false, true, "location"): operations = ["get_bucket_location"]
        case ("GET", false, true, "logging"): operations = ["get_bucket_logging"]
        case ("PUT", false, true, nil): operations = ["create_bucket", "create_located_bucket"]
        case ("PUT", false, true, "acl"): operations = ["put_bucket_acl"]
        case ("PUT", false, true, "logging"): operations = ["put_bucket_logging"]
        case ("DELETE", false, true, nil): operations = ["delete_bucket"]
        case ("GET", false, false, nil): operations = ["get"]
        case ("GET", false, false, "acl"): operations = ["get_acl"]
        case ("HEAD", false, false, nil): operations = ["head"]
        case ("PUT", false, false, nil): operations = ["put"]
        case ("PUT", false, false, "acl"): operations = ["put_acl"]
        case ("DELETE", false, false, nil): operations = ["delete"]
        default: return ["no operation is \(method) \(url)"]
        }
        let lifetime: Int64
        var contentType: String? = headers["Content-Type"]
        var size = Int64.max
        if let expires = query["X-Amz-Expires"], let seconds = Int64(expires ?? "") {
            lifetime = seconds
            let signedText = (query["X-Amz-SignedHeaders"] ?? nil) ?? ""
            let signed = Set(signedText.split(separator: ";").map(String.init))
            if !signed.contains("content-type") { contentType = "*" }
            if signed.contains("content-length"), let length = headers["Content-Length"].flatMap({ Int64($0) }) { size = length }
        } else if let expires = query["Expires"], let at = Int64(expires ?? "") {
            lifetime = at - now
            // SigV2 always signs Content-Type (empty when the client must send none) and never Content-Length.
        } else {
            return ["no expiry in \(url)"]
        }
        var responseValues: [String] = []
        for (name, value) in query where name.hasPrefix("response-") { responseValues.append(value ?? "") }
        let known: Set<String> = [
            "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature",
            "AWSAccessKeyId", "Signature", "Expires", "content-type", "acl", "location", "logging",
        ]
        if let unknown = query.keys.first(where: { !known.contains($0) && !$0.hasPrefix("response-") }) {
            return ["unmodelled query parameter \(unknown) in \(url)"]
        }
        let wide = bucket == nil ? Grant.Buckets.everyBucket : .one(bucket!)
        if operations.isDisjoint(with: ["get", "head", "put", "delete", "get_acl", "put_acl"]) { stats.listings += 1 }
        let grant = Grant(
            operations: operations, bucket: wide, keys: key.isEmpty ? .everyKey : .one(key), lifetime: lifetime,
            contentType: contentType, size: size, responseContentType: query["response-content-type"] ?? nil,
            responseValues: responseValues)
        if let why = allowed(grant, backend: request.backend, exactKey: true) {
            return ["\(method) \(url) headers \(headers) is outside every rule: \(why)"]
        }
        return []
    }

    func checkForm(_ fields: [String: String], request: RandomRequest, stats: inout Stats) -> [String] {
        guard let encoded = fields["policy"], let data = Data(base64Encoded: encoded),
            let policy = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let expiration = policy["expiration"] as? String, let conditions = policy["conditions"] as? [Any]
        else { return ["unreadable policy"] }
        let formatter = ISO8601DateFormatter()
        guard let expires = formatter.date(from: expiration) else { return ["bad expiration \(expiration)"] }
        var buckets: [String]?
        var keys: [String]?
        var exactKey = true
        var types: [String?] = [nil]
        var sizes: [Int64] = [Int64.max]
        let typeCandidates = [
            "image/png", "image/svg+xml", "text/html", "image/png, text/html", "application/json", "text/plain",
            "image/png; a=b, text/html",
        ]
        for condition in conditions {
            if let pair = condition as? [String: String], pair.count == 1, let name = pair.keys.first, let value = pair[name] {
                switch name.lowercased() {
                case "bucket": buckets = [value]
                case "key": keys = [value]
                case "content-type": types = [value]
                case "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-security-token": break
                default: return ["unmodelled condition \(pair)"]
                }
            } else if let list = condition as? [Any], list.count == 3, let verb = list[0] as? String {
                if verb == "content-length-range", let low = list[1] as? Int64, let high = list[2] as? Int64 {
                    sizes = [low, high]
                } else if let field = list[1] as? String, let value = list[2] as? String {
                    switch (verb, field.lowercased()) {
                    case ("eq", "$key"): keys = [value]
                    case ("starts-with", "$key"):
                        stats.filenameForms += 1
                        exactKey = false
                        keys = [value, value + "evil.html", value + "a.png", value + "x/../../evil.png"]
                    case ("eq", "$content-type"): types = [value]
                    case ("starts-with", "$content-type"):
                        let matching = (typeCandidates + [value, value + "svg+xml", value + "png, text/html"])
                            .filter { $0.lowercased().hasPrefix(value.lowercased()) }
                        types = matching.isEmpty ? [value] : matching
                    case ("eq", "$bucket"): buckets = [value]
                    default: return ["unmodelled condition \(list)"]
                    }
                } else {
                    return ["unmodelled condition \(list)"]
                }
            } else {
                return ["unmodelled condition \(condition)"]
            }
        }
        guard let keys else { return ["policy leaves the key free"] }
        let lifetime = Int64(expires.timeIntervalSince1970) - now
        var problems: [String] = []
        for key in keys {
            for type in types {
                for size in sizes {
                    let grant = Grant(
                        operations: ["post_object"], bucket: buckets.map { .one($0[0]) } ?? .everyBucket, keys: .one(key),
                        lifetime: lifetime, contentType: type, size: size, responseContentType: nil, responseValues: [])
                    if let why = allowed(grant, backend: request.backend, exactKey: exactKey), problems.count < 3 {
                        problems.append("POST form lets S3 accept key '\(key)', Content-Type \(type.map { "'\($0)'" } ?? "none"), \(size == .max ? "any size" : "\(size) bytes"): \(why); policy \(String(decoding: data, as: UTF8.self))")
                    }
                }
            }
        }
        return problems
    }
}
