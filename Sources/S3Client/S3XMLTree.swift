extension S3XML {
    /// The kept elements of one document, flat: one 32-byte record each and one buffer for all their text.
    final class Tree {
        struct Record {
            /// Index in the schema, or -1 for a root the schema does not name.
            var name: Int32
            var firstChild: Int32 = -1
            var lastChild: Int32 = -1
            var next: Int32 = -1
            var textStart: Int32
            var textEnd: Int32
            /// Child elements, kept or not.
            var elements: Int32 = 0
            var attributesStart: Int32
        }

        let schema: Schema
        var records: [Record] = []
        var text: [UInt8] = []
        var attributes: [(node: Int32, name: String, value: String)] = []
        var rootName = ""

        init(schema: Schema) { self.schema = schema }
    }

    /// One kept element, read like a small DOM: local name, text, kept children by local name, attributes.
    struct Element {
        let tree: Tree
        let index: Int32

        private var record: Tree.Record { tree.records[Int(index)] }

        var name: String { record.name >= 0 ? tree.schema.names[Int(record.name)] : tree.rootName }

        /// Its own text (decoded), "" when the schema does not keep it.
        var text: String { String(decoding: tree.text[Int(record.textStart)..<Int(record.textEnd)], as: UTF8.self) }

        /// How many child elements it had, kept or not.
        var elementCount: Int { Int(record.elements) }

        func children(_ name: String) -> [Element] {
            var out: [Element] = []
            var child = record.firstChild
            while child >= 0 {
                let found = tree.records[Int(child)]
                if found.name >= 0 && tree.schema.names[Int(found.name)] == name { out.append(Element(tree: tree, index: child)) }
                child = found.next
            }
            return out
        }

        func child(_ name: String) -> Element? {
            var child = record.firstChild
            while child >= 0 {
                let found = tree.records[Int(child)]
                if found.name >= 0 && tree.schema.names[Int(found.name)] == name { return Element(tree: tree, index: child) }
                child = found.next
            }
            return nil
        }

        func text(_ name: String) -> String? { child(name)?.text }

        /// By local name (`xsi:type` is `type`); namespace declarations are not attributes.
        var attributes: [String: String] {
            var out: [String: String] = [:]
            for entry in tree.attributes[Int(record.attributesStart)...] where entry.node == index { out[entry.name] = entry.value }
            return out
        }
    }
}
