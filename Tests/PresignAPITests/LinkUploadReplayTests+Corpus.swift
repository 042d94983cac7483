import Foundation

/// The exchanges of `LinkUploadReplayTests`. Link ids are `L001…` in creation order across both scenes (a create
/// refused by the live-link cap still draws one).
extension LinkUploadReplayTests {
    static func scenes(_ tokens: Tokens) -> [Scene] {
        [Scene(name: "links", links: "", uploads: true, exchanges: linkExchanges(tokens) + uploadExchanges(tokens)),
         Scene(name: "limits", links: limits, uploads: false, exchanges: limitExchanges())]
    }

    static let limits = ", max_live_per_caller: 2, rate_limit: {per_address: {per_second: 0.5, burst: 3}, per_link: {per_second: 0.25, burst: 2}}"
    static let unknownID = String(repeating: "Z", count: 32)

    static func bearer(_ token: String) -> [(String, String)] { [("Authorization", "Bearer \(token)")] }

    static func linkExchanges(_ tokens: Tokens) -> [Replay.Exchange] {
        var list: [Replay.Exchange] = []
        let ops = bearer(opsKey), other = bearer(otherKey), user7 = bearer(tokens.user7), user8 = bearer(tokens.user8)
        func create(_ name: String, _ body: String, _ auth: [(String, String)], advance: UInt64 = 10) {
            list.append(.init(name: name, method: "POST", target: "/v1/links", headers: auth, body: body, advance: advance))
        }
        func call(_ name: String, _ method: String, _ target: String, _ headers: [(String, String)] = [], wall: Double = 0, advance: UInt64 = 10) {
            list.append(.init(name: name, method: method, target: target, headers: headers, body: "", advance: advance, wall: wall))
        }
        let (l1, l2, l3, l4, l5, l6) = (LinkIDs.text(1), LinkIDs.text(2), LinkIDs.text(3), LinkIDs.text(4), LinkIDs.text(5), LinkIDs.text(6))
        // Made: L001 to L007.
        create("create", #"{"bucket":"reports","key":"public/a.pdf","backend":"main"}"#, ops)
        create("create every field", #"{"bucket":"reports","key":"public/q3 report+final.pdf","backend":"main","expires_in":2592000,"max_uses":2,"response":{"content_disposition":"attachment; filename=\"q3.pdf\"","content_type":"application/pdf"}}"#, ops)
        create("create on v2", #"{"bucket":"reports","key":"public/v2 ü.txt","backend":"v2","max_uses":1}"#, ops)
        create("create jwt own key", #"{"bucket":"uploads","key":"users/7/p.png","backend":"main"}"#, user7)
        create("create short-lived", #"{"bucket":"reports","key":"public/soon.txt","backend":"main","expires_in":60}"#, ops)
        create("create by another caller", #"{"bucket":"reports","key":"private/o.txt","backend":"main","expires_in":3600}"#, other)
        create("create with the default lifetime under a shorter rule", #"{"bucket":"reports","key":"x","backend":"main"}"#, other)
        // Refused before any id is drawn.
        let refused: [(String, String, [(String, String)])] = [
            ("jwt other subject's key", #"{"bucket":"uploads","key":"users/8/p.png","backend":"main"}"#, user7),
            ("outside the rule", #"{"bucket":"reports","key":"private/x","backend":"main"}"#, ops),
            ("over the rule's lifetime", #"{"bucket":"reports","key":"public/a","backend":"main","expires_in":2592001}"#, ops),
            ("over a year", #"{"bucket":"reports","key":"public/a","backend":"main","expires_in":31536001}"#, ops),
            ("unknown backend", #"{"bucket":"reports","key":"public/a","backend":"nope"}"#, ops),
            ("no backend of two", #"{"bucket":"reports","key":"public/a"}"#, ops),
            ("no key", #"{"bucket":"reports","backend":"main"}"#, ops),
            ("no bucket", #"{"key":"public/a","backend":"main"}"#, ops),
            ("operation given", #"{"operation":"put","bucket":"reports","key":"public/a","backend":"main"}"#, ops),
            ("unknown field", #"{"bucket":"reports","key":"public/a","backend":"main","colour":"red"}"#, ops),
            ("max_uses zero", #"{"bucket":"reports","key":"public/a","backend":"main","max_uses":0}"#, ops),
            ("max_uses over", #"{"bucket":"reports","key":"public/a","backend":"main","max_uses":1000001}"#, ops),
            ("max_uses string", #"{"bucket":"reports","key":"public/a","backend":"main","max_uses":"2"}"#, ops),
            ("expires_in zero", #"{"bucket":"reports","key":"public/a","backend":"main","expires_in":0}"#, ops),
            ("html override", #"{"bucket":"reports","key":"public/a","backend":"main","response":{"content_type":"text/html"}}"#, ops),
            ("crlf override", #"{"bucket":"reports","key":"public/a","backend":"main","response":{"content_disposition":"a\r\nX: 1"}}"#, ops),
            ("dot-dot key", #"{"bucket":"reports","key":"public/../a","backend":"main"}"#, ops),
            ("not an object", #"[1]"#, ops),
            ("truncated", #"{"bucket":"#, ops),
            ("empty body", "", ops),
            ("no credentials", #"{"bucket":"reports","key":"public/a","backend":"main"}"#, []),
            ("unknown key", #"{"bucket":"reports","key":"public/a","backend":"main"}"#, bearer("nope")),
        ]
        for (name, body, auth) in refused { create("create refused: \(name)", body, auth) }
        list.append(.init(name: "create text/plain body", method: "POST", target: "/v1/links", headers: ops + [("Content-Type", "text/plain")], body: #"{"bucket":"reports","key":"public/a","backend":"main"}"#))
        // The caller's rate limit (burst 2): L008, L009, a 429, then L010 once refilled.
        for index in 0..<3 {
            create("limited \(index)", #"{"bucket":"reports","key":"l/\#(index)","backend":"main"}"#, bearer(limitedKey), advance: index == 0 ? 10 : 0)
        }
        create("limited refilled", #"{"bucket":"reports","key":"l/3","backend":"main"}"#, bearer(limitedKey))
        // Reading a link: only its maker (and JWT subject) sees it.
        call("info", "GET", "/v1/links/\(l1)", ops)
        call("info by another caller", "GET", "/v1/links/\(l1)", other)
        call("info jwt own", "GET", "/v1/links/\(l4)", user7)
        call("info jwt other subject", "GET", "/v1/links/\(l4)", user8)
        call("info api key on a jwt link", "GET", "/v1/links/\(l4)", ops)
        call("info malformed id", "GET", "/v1/links/short", ops)
        call("info unknown id", "GET", "/v1/links/\(unknownID)", ops)
        call("info no credentials", "GET", "/v1/links/\(l1)")
        call("info with origin", "GET", "/v1/links/\(l2)", ops + [("Origin", "https://app.example.com")])
        // Opening: a use, a HEAD, uses running out, unknown and malformed ids.
        call("open", "GET", "/l/\(l1)")
        call("open head", "HEAD", "/l/\(l1)")
        call("open limited 1", "GET", "/l/\(l2)")
        call("open limited 2", "GET", "/l/\(l2)")
        call("open used up", "GET", "/l/\(l2)")
        call("head used up", "HEAD", "/l/\(l2)")
        call("info used up", "GET", "/v1/links/\(l2)", ops)
        call("open v2", "GET", "/l/\(l3)")
        call("open v2 used up", "GET", "/l/\(l3)")
        call("open jwt link", "GET", "/l/\(l4)")
        call("open another caller's link", "GET", "/l/\(l6)")
        call("open unknown", "GET", "/l/\(unknownID)")
        call("open malformed", "GET", "/l/short")
        call("open 33 characters", "GET", "/l/\(l1)x")
        call("open bad base64url", "GET", "/l/\(String(repeating: "+", count: 32))")
        call("open post", "POST", "/l/\(l1)")
        call("open with credentials", "GET", "/l/\(l1)", ops)
        // Revoking.
        call("revoke by another caller", "DELETE", "/v1/links/\(l1)", other)
        call("revoke jwt by other subject", "DELETE", "/v1/links/\(l4)", user8)
        call("revoke", "DELETE", "/v1/links/\(l1)", ops)
        call("open revoked", "GET", "/l/\(l1)")
        call("head revoked", "HEAD", "/l/\(l1)")
        call("revoke again", "DELETE", "/v1/links/\(l1)", ops)
        call("info revoked", "GET", "/v1/links/\(l1)", ops)
        call("revoke unknown", "DELETE", "/v1/links/\(unknownID)", ops)
        call("revoke malformed", "DELETE", "/v1/links/short", ops)
        call("revoke jwt own", "DELETE", "/v1/links/\(l4)", user7)
        call("open revoked jwt link", "GET", "/l/\(l4)")
        // Expiry: the 60-second link, 61 seconds on.
        call("open short-lived", "GET", "/l/\(l5)")
        call("open expired", "GET", "/l/\(l5)", wall: 61)
        call("head expired", "HEAD", "/l/\(l5)")
        call("info expired", "GET", "/v1/links/\(l5)", ops)
        // Methods and preflights.
        let origin = [("Origin", "https://app.example.com")]
        call("preflight links", "OPTIONS", "/v1/links", origin + [("Access-Control-Request-Method", "POST")])
        call("preflight link", "OPTIONS", "/v1/links/\(l1)", origin + [("Access-Control-Request-Method", "DELETE")])
        call("preflight link wrong method", "OPTIONS", "/v1/links/\(l1)", origin + [("Access-Control-Request-Method", "PUT")])
        call("plain options link", "OPTIONS", "/v1/links/\(l1)")
        call("put links", "PUT", "/v1/links", ops)
        call("patch link", "PATCH", "/v1/links/\(l1)", ops)
        call("get links", "GET", "/v1/links", ops)
        return list
    }

    static func limitExchanges() -> [Replay.Exchange] {
        var list: [Replay.Exchange] = []
        let ops = bearer(opsKey)
        // Ids go on from L010: L011, L012, L013 (drawn, then refused by the cap), L014 (another caller's), L015.
        let (a, b, e) = (LinkIDs.text(11), LinkIDs.text(12), LinkIDs.text(15))
        func add(_ name: String, _ method: String, _ target: String, _ headers: [(String, String)] = [], body: String = "", advance: UInt64 = 10, peer: String? = nil) {
            list.append(.init(name: name, method: method, target: target, headers: headers, body: body, advance: advance, peer: peer))
        }
        let link = #"{"bucket":"reports","key":"public/cap","backend":"main"}"#
        add("create 1 of 2", "POST", "/v1/links", ops, body: link)
        add("create 2 of 2", "POST", "/v1/links", ops, body: link)
        add("create over the cap", "POST", "/v1/links", ops, body: link)
        add("another caller has its own cap", "POST", "/v1/links", bearer(otherKey), body: link)
        add("revoke 1", "DELETE", "/v1/links/\(a)", ops)
        add("create after a revoke", "POST", "/v1/links", ops, body: link)
        // Address bucket 3 and link bucket 2, both full after 10 s.
        add("open 1", "GET", "/l/\(b)")
        add("open 2", "GET", "/l/\(b)", advance: 0)
        add("open over the link's bucket", "GET", "/l/\(b)", advance: 0)
        add("open over the address's bucket", "GET", "/l/\(e)", advance: 0)
        add("head over the address's bucket", "HEAD", "/l/\(e)", advance: 0)
        add("malformed before the buckets", "GET", "/l/short", advance: 0)
        add("another address", "GET", "/l/\(e)", advance: 0, peer: "198.51.100.4")
        add("another address, link still over", "GET", "/l/\(b)", advance: 0, peer: "198.51.100.5")
        add("unknown id spends the address's token", "GET", "/l/\(unknownID)", advance: 0, peer: "203.0.113.9")
        add("an IPv6 address", "GET", "/l/\(e)", advance: 0, peer: "2001:db8::1")
        add("refilled", "GET", "/l/\(b)", advance: 8)
        add("info after the buckets", "GET", "/v1/links/\(b)", ops)
        // Uploads are off in this scene.
        add("sign parts without uploads", "POST", "/v1/uploads/x/parts", ops, body: #"{"parts":[{"number":1}]}"#)
        add("create upload without uploads", "POST", "/v1/uploads", ops, body: "{}")
        return list
    }
}
