import JSONKit
import Foundation
import HTTPServer
import PresignAPI
import PresignConfig
import S3Signing
import Testing
import PresignCore
import TestSupport

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
}
