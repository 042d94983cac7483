import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import S3Client
import Testing
import TestSupport

/// presignd's reader against Foundation's XMLParser (libxml2's SAX parser, what presignd used before) on seeded
/// S3-like documents: every way of writing text (entities, character references, CDATA, line ends, non-ASCII),
/// comments, processing instructions, namespace prefixes, unknown elements with attributes. Both must read the
/// same ListBucketResult, and presignd must read the same whatever pieces the bytes arrive in.
struct S3XMLDifferentialTests {
    /// Foundation's reading: a full tree of local names and text.
    final class Node {
        let name: String
        var text = ""
        var children: [Node] = []
        init(_ name: String) { self.name = name }
        func text(_ child: String) -> String? { children.first { $0.name == child }?.text }
    }

    final class Builder: NSObject, XMLParserDelegate {
        var stack: [Node] = []
        var root: Node?
        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let node = Node(elementName)
            stack.last?.children.append(node)
            stack.append(node)
        }
        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            root = stack.removeLast()
        }
        func parser(_ parser: XMLParser, foundCharacters string: String) { stack.last?.text += string }
        func parser(_ parser: XMLParser, foundIgnorableWhitespace whitespaceString: String) { stack.last?.text += whitespaceString }
        func parser(_ parser: XMLParser, foundCDATA CDATABlock: Data) { stack.last?.text += String(decoding: CDATABlock, as: UTF8.self) }
    }

    /// The fields presignd reads, one line each, from Foundation's tree.
    static func foundation(_ xml: [UInt8]) -> [String]? {
        let builder = Builder()
        let parser = XMLParser(data: Data(xml))
        parser.shouldProcessNamespaces = true
        parser.delegate = builder
        guard parser.parse(), let root = builder.root, root.name == "ListBucketResult" else { return nil }
        var lines = ["Name", "Prefix", "Marker", "MaxKeys", "IsTruncated"].map { "\($0)=\(root.text($0) ?? "nil")" }
        for node in root.children where node.name == "Contents" {
            lines.append(["Key", "LastModified", "ETag", "Size", "StorageClass"].map { node.text($0) ?? "nil" }.joined(separator: "|"))
        }
        lines += root.children.filter { $0.name == "CommonPrefixes" }.compactMap { $0.text("Prefix") }
        return lines
    }

    /// The same lines from presignd's reading.
    static func lines(_ result: ListBucketResult) -> [String] {
        var lines = [
            "Name=\(result.name)", "Prefix=\(result.prefix)", "Marker=\(result.marker ?? "nil")",
            "MaxKeys=\(result.maxKeys.map(String.init) ?? "nil")", "IsTruncated=\(result.isTruncated)",
        ]
        for object in result.objects {
            lines.append([object.key, object.lastModified ?? "nil", object.etag ?? "nil", String(object.size), object.storageClass ?? "nil"]
                .joined(separator: "|"))
        }
        return lines + result.commonPrefixes
    }

    static let pool: [String] = ["a", "Z", "0", "/", " ", "-", "&", "<", ">", "\"", "'", "é", "日", "😀", "\t", "\n", "\r\n", "\r", "]", "%"]

    /// `text` written one of the ways XML allows, chosen per character (or as one CDATA section).
    static func write(_ text: String, _ rng: inout SplitMix64) -> String {
        if Int.random(in: 0..<6, using: &rng) == 0 && !text.contains("]]>") && !text.contains("\r") {
            return "<![CDATA[" + text + "]]>"
        }
        var out = ""
        for character in text {
            let scalar = character.unicodeScalars.first!.value
            switch (character, Int.random(in: 0..<4, using: &rng)) {
            case ("&", 0), ("&", 1): out += "&amp;"
            case ("<", 0), ("<", 1): out += "&lt;"
            case ("&", _), ("<", _): out += "&#\(scalar);"
            case (">", 0): out += "&gt;"
            case ("\"", 0): out += "&quot;"
            case ("'", 0): out += "&apos;"
            case ("\r\n", _), ("\r", _): out += String(character)  // literal: both readers normalize it to \n
            case (_, 2) where character.unicodeScalars.count == 1: out += "&#x\(String(scalar, radix: 16));"
            case (_, 3) where character.unicodeScalars.count == 1 && scalar > 0x20: out += "&#\(scalar);"
            default: out += String(character)
            }
        }
        return out
    }

    static func randomText(_ rng: inout SplitMix64, max: Int = 12) -> String {
        String((0..<Int.random(in: 1...max, using: &rng)).map { _ in pool.randomElement(using: &rng)! }.joined())
    }

    static func noise(_ rng: inout SplitMix64) -> String {
        switch Int.random(in: 0..<8, using: &rng) {
        case 0: return "<!-- " + randomText(&rng).replacingOccurrences(of: "-", with: "_") + " -->"
        case 1: return "<?note " + randomText(&rng).replacingOccurrences(of: "?", with: "_") + "?>"
        case 2: return "\n  "
        case 3: return "<Extra kind=\"" + S3XML.escape(randomText(&rng)) + "\">" + write(randomText(&rng), &rng) + "<Key>x</Key></Extra>"
        case 4: return "<Owner><ID>" + write(randomText(&rng), &rng) + "</ID><DisplayName/></Owner>"
        default: return ""
        }
    }

    static func document(_ rng: inout SplitMix64) -> String {
        let p = Bool.random(using: &rng) ? "s3:" : ""
        func element(_ name: String, _ text: String) -> String { "<\(p)\(name)>" + write(text, &rng) + "</\(p)\(name)>" + noise(&rng) }
        var xml = Bool.random(using: &rng) ? #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n" : ""
        xml += "<\(p)ListBucketResult xmlns\(p.isEmpty ? "" : ":s3")=\"http://s3.amazonaws.com/doc/2006-03-01/\">" + noise(&rng)
        xml += element("Name", randomText(&rng)) + element("Prefix", randomText(&rng))
        if Bool.random(using: &rng) { xml += element("Marker", randomText(&rng)) }
        xml += element("MaxKeys", String(Int.random(in: 0...1000, using: &rng)))
        xml += element("IsTruncated", Bool.random(using: &rng) ? "true" : "false")
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            xml += "<\(p)Contents>" + noise(&rng) + element("Key", randomText(&rng, max: 40)) + element("LastModified", "2026-11-26T10:00:00.000Z")
            xml += element("ETag", "\"" + String(UInt64.random(in: 0...UInt64.max, using: &rng), radix: 16) + "\"")
            xml += element("Size", String(Int64.random(in: 0...Int64(1) << 40, using: &rng))) + element("StorageClass", "STANDARD")
            xml += "</\(p)Contents>" + noise(&rng)
        }
        for _ in 0..<Int.random(in: 0...3, using: &rng) { xml += "<\(p)CommonPrefixes>" + element("Prefix", randomText(&rng)) + "</\(p)CommonPrefixes>" }
        return xml + "</\(p)ListBucketResult>" + (Bool.random(using: &rng) ? "\n<!-- end -->\n" : "")
    }

    @Test func sameAsFoundationWholeAndInPieces() throws {
        var rng = SplitMix64(seed: 21)
        for round in 0..<300 {
            let xml = Array(Self.document(&rng).utf8)
            let reference = try #require(Self.foundation(xml), "Foundation refused round \(round): \(String(decoding: xml, as: UTF8.self))")
            let whole = try ListBucketResult(xml: xml)
            #expect(Self.lines(whole) == reference, "round \(round): \(String(decoding: xml, as: UTF8.self))")
            var reader = S3XML.Reader(schema: ListBucketResult.schema)
            var at = 0
            while at < xml.count {
                let end = min(xml.count, at + Int.random(in: 1...64, using: &rng))
                try xml[at..<end].withUnsafeBytes { try reader.append($0) }
                at = end
            }
            #expect(try ListBucketResult(root: reader.finish()) == whole, "round \(round) in pieces")
        }
    }
}
