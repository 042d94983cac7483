import Foundation

/// The upload exchanges that answer without S3: every `POST /v1/uploads/{upload}/parts`, and the refusals of the
/// other upload routes that come before their S3 call (handles, bodies, policy).
extension LinkUploadReplayTests {
    static let sha256 = "LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ="

    /// The handle with one character of its MAC (or of its payload) changed.
    static func tampered(_ handle: String, payload: Bool = false) -> String {
        var bytes = Array(handle.utf8)
        let index = payload ? 2 : bytes.count - 2
        bytes[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        return String(decoding: bytes, as: UTF8.self)
    }

    static func uploadExchanges(_ tokens: Tokens) -> [Replay.Exchange] {
        var list: [Replay.Exchange] = []
        let ops = bearer(opsKey), other = bearer(otherKey), user7 = bearer(tokens.user7), user8 = bearer(tokens.user8)
        func parts(_ name: String, _ handle: String, _ body: String, _ auth: [(String, String)] = ops) {
            list.append(.init(name: "parts: \(name)", method: "POST", target: "/v1/uploads/\(handle)/parts", headers: auth, body: body))
        }
        let plain = upload()
        let one = #"{"parts":[{"number":1}]}"#
        parts("two parts", plain, #"{"parts":[{"number":1},{"number":2,"content_length":5242880}]}"#)
        parts("expires_in", plain, #"{"parts":[{"number":3}],"expires_in":600}"#)
        parts("expires_in at the upload's end", plain, #"{"parts":[{"number":3}],"expires_in":3600}"#)
        parts("expires_in past the upload's end", plain, #"{"parts":[{"number":3}],"expires_in":3601}"#)
        parts("last part number", plain, #"{"parts":[{"number":10000,"content_length":0}]}"#)
        parts("over the rule's size", plain, #"{"parts":[{"number":1,"content_length":100000001}]}"#)
        let declared = upload(type: "text/plain", length: 1000)
        parts("declared length", declared, #"{"parts":[{"number":1,"content_length":1000}]}"#)
        parts("over the declared length", declared, #"{"parts":[{"number":1,"content_length":1001}]}"#)
        let checked = upload(checksum: "SHA256")
        parts("checksum", checked, #"{"parts":[{"number":1,"checksum":"\#(sha256)","content_length":5}]}"#)
        parts("checksum missing", checked, one)
        parts("checksum malformed", checked, #"{"parts":[{"number":1,"checksum":"AAAA"}]}"#)
        parts("checksum on an upload without one", plain, #"{"parts":[{"number":1,"checksum":"\#(sha256)"}]}"#)
        parts("crc32c", upload(checksum: "CRC32C"), #"{"parts":[{"number":1,"checksum":"AAAAAA=="}]}"#)
        let v2 = upload(backend: "v2")
        parts("v2", v2, one)
        parts("v2 with a length", v2, #"{"parts":[{"number":1,"content_length":5}]}"#)
        let own = upload(caller: "user", subject: "7", bucket: "uploads", key: "users/7/a.png", type: "image/png")
        parts("jwt own", own, one, user7)
        parts("jwt other subject", own, one, user8)
        parts("jwt handle with an api key", own, one, ops)
        parts("another caller's handle", upload(caller: "other"), one)
        parts("handle used by another caller", plain, one, other)
        parts("tampered mac", tampered(plain), one)
        parts("tampered payload", tampered(plain, payload: true), one)
        parts("sealed with another key", upload(secret: "another-upload-token-secret-0123456789abcdef"), one)
        parts("expired", upload(expiresIn: -1), one)
        parts("expiring this second", upload(expiresIn: 0), one)
        parts("unknown backend", upload(backend: "gone"), one)
        parts("outside today's rule", upload(bucket: "secret"), one)
        parts("garbage handle", "not-a-handle", one)
        parts("no dot", "abc", one)
        parts("no parts", plain, "{}")
        parts("empty list", plain, #"{"parts":[]}"#)
        parts("number zero", plain, #"{"parts":[{"number":0}]}"#)
        parts("number 10001", plain, #"{"parts":[{"number":10001}]}"#)
        parts("number twice", plain, #"{"parts":[{"number":2},{"number":2}]}"#)
        parts("number as a string", plain, #"{"parts":[{"number":"1"}]}"#)
        parts("negative length", plain, #"{"parts":[{"number":1,"content_length":-1}]}"#)
        parts("unknown field", plain, #"{"parts":[{"number":1}],"x":1}"#)
        parts("unknown part field", plain, #"{"parts":[{"number":1,"etag":"x"}]}"#)
        parts("expires_in zero", plain, #"{"parts":[{"number":1}],"expires_in":0}"#)
        parts("not json", plain, "parts")
        parts("no credentials", plain, one, [])
        // The other upload routes refuse these before they call S3.
        func call(_ name: String, _ method: String, _ target: String, _ body: String = "", _ auth: [(String, String)] = ops) {
            list.append(.init(name: name, method: method, target: target, headers: auth, body: body))
        }
        let create = "/v1/uploads"
        call("create: outside the rule", "POST", create, #"{"bucket":"secret","key":"a","backend":"main"}"#)
        call("create: type not allowed", "POST", create, #"{"bucket":"uploads","key":"users/7/a.txt","backend":"main","content_type":"text/plain"}"#, user7)
        call("create: wildcard type", "POST", create, #"{"bucket":"reports","key":"a","backend":"main","content_type":"image/*"}"#)
        call("create: over the size", "POST", create, #"{"bucket":"reports","key":"a","backend":"main","content_length":100000001}"#)
        call("create: unknown backend", "POST", create, #"{"bucket":"reports","key":"a","backend":"nope"}"#)
        call("create: no backend of two", "POST", create, #"{"bucket":"reports","key":"a"}"#)
        call("create: bad key", "POST", create, #"{"bucket":"reports","key":"a/../b","backend":"main"}"#)
        call("create: unknown field", "POST", create, #"{"bucket":"reports","key":"a","backend":"main","parts":1}"#)
        call("create: bad checksum algorithm", "POST", create, #"{"bucket":"reports","key":"a","backend":"main","checksum_algorithm":"MD5"}"#)
        call("create: jwt other subject", "POST", create, #"{"bucket":"uploads","key":"users/8/a.png","backend":"main","content_type":"image/png"}"#, user7)
        call("create: no credentials", "POST", create, #"{"bucket":"reports","key":"a","backend":"main"}"#, [])
        for (method, suffix, body) in [("GET", "/parts", ""), ("POST", "/complete", #"{"parts":[{"number":1,"etag":"\"e\""}]}"#), ("DELETE", "", "")] {
            let route = "\(method) \(suffix.isEmpty ? "upload" : String(suffix.dropFirst()))"
            call("\(route): tampered", method, "/v1/uploads/\(tampered(plain))\(suffix)", body)
            call("\(route): expired", method, "/v1/uploads/\(upload(expiresIn: -1))\(suffix)", body)
            call("\(route): another caller's", method, "/v1/uploads/\(plain)\(suffix)", body, other)
            call("\(route): outside today's rule", method, "/v1/uploads/\(upload(bucket: "secret"))\(suffix)", body)
        }
        call("complete: no parts", "POST", "/v1/uploads/\(plain)/complete", #"{"parts":[]}"#)
        call("complete: no etag", "POST", "/v1/uploads/\(plain)/complete", #"{"parts":[{"number":1}]}"#)
        call("complete: checksum on an upload without one", "POST", "/v1/uploads/\(plain)/complete", #"{"parts":[{"number":1,"etag":"e","checksum":"\#(sha256)"}]}"#)
        call("complete: bad checksum", "POST", "/v1/uploads/\(checked)/complete", #"{"parts":[{"number":1,"etag":"e","checksum":"AAAA"}]}"#)
        call("complete: etag with markup", "POST", "/v1/uploads/\(plain)/complete", #"{"parts":[{"number":1,"etag":"<e>"}]}"#)
        let origin = [("Origin", "https://app.example.com")]
        call("preflight parts", "OPTIONS", "/v1/uploads/\(plain)/parts", "", origin + [("Access-Control-Request-Method", "POST")])
        call("preflight upload wrong method", "OPTIONS", "/v1/uploads/x", "", origin + [("Access-Control-Request-Method", "GET")])
        call("put parts", "PUT", "/v1/uploads/x/parts")
        call("parts with origin", "POST", "/v1/uploads/\(plain)/parts", one, ops + origin)
        return list
    }
}
