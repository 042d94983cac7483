extension S3XML {
    /// Reads one document as its bytes arrive: `append` each piece (a bound crossed throws at once, so the caller
    /// can end the transfer), then `finish()` for the root element. Keeps only what `schema` names, in a `Tree`.
    struct Reader {
        private var parser: XMLPullParser
        let tree: Tree
        /// Per open element: its record and schema node, -1 when it is not kept.
        private var stack: [(record: Int32, node: Int32)] = []
        private var afterCR = false

        init(schema: Schema, limits: XMLPullParser.Limits = XMLPullParser.Limits()) {
            parser = XMLPullParser(limits: limits)
            tree = Tree(schema: schema)
        }

        /// Bytes read so far that the parser still holds (an unfinished piece of markup or reference).
        var pendingBytes: Int { parser.buffer.count - parser.position }

        mutating func append(_ bytes: UnsafeRawBufferPointer) throws(ParseError) {
            parser.append(bytes)
            try drain()
        }

        mutating func append(_ bytes: [UInt8]) throws(ParseError) {
            parser.append(bytes)
            try drain()
        }

        /// After the last byte: the root element, or why the document is not complete.
        mutating func finish() throws(ParseError) -> Element {
            parser.end()
            try drain()
            return Element(tree: tree, index: 0)
        }

        private mutating func drain() throws(ParseError) {
            while true {
                switch try parser.next() {
                case .needMore, .finished: return
                case .start(let name, let attributes): try start(S3XML.localName(name), attributes)
                case .end: try end()
                case .text(let raw): try keep(raw, cdata: false)
                case .cdata(let raw): try keep(raw, cdata: true)
                }
            }
        }

        private mutating func start(_ local: ArraySlice<UInt8>, _ attributes: [XMLPullParser.Attribute]) throws(ParseError) {
            afterCR = false
            let node: Int
            if let (parentRecord, parentNode) = stack.last {
                if parentRecord >= 0 { tree.records[Int(parentRecord)].elements += 1 }
                guard parentNode >= 0, let child = tree.schema.child(of: Int(parentNode), named: local) else {
                    stack.append((-1, -1))
                    return
                }
                node = child
            } else {
                // The root is always kept, so a document of another kind can be named in the error.
                guard let root = tree.schema.root(named: local) else {
                    tree.rootName = String(decoding: local, as: UTF8.self)
                    tree.records.append(Tree.Record(name: -1, textStart: 0, textEnd: 0, attributesStart: 0))
                    stack.append((0, -1))
                    return
                }
                node = root
            }
            let index = Int32(tree.records.count)
            let textStart = Int32(tree.text.count)
            tree.records.append(Tree.Record(name: Int32(node), textStart: textStart, textEnd: textStart,
                                            attributesStart: Int32(tree.attributes.count)))
            if let (parentRecord, _) = stack.last {
                let parent = Int(parentRecord)
                if tree.records[parent].lastChild >= 0 {
                    tree.records[Int(tree.records[parent].lastChild)].next = index
                } else {
                    tree.records[parent].firstChild = index
                }
                tree.records[parent].lastChild = index
            }
            stack.append((index, Int32(node)))
            guard tree.schema.keepsAttributes[node] else { return }
            for attribute in attributes {
                let name = attribute.name
                if name.elementsEqual("xmlns".utf8) || name.starts(with: "xmlns:".utf8) { continue }
                tree.attributes.append((index, String(decoding: S3XML.localName(name), as: UTF8.self), try S3XML.decode(attribute: attribute.value)))
            }
        }

        private mutating func end() throws(ParseError) {
            let (record, node) = stack.removeLast()
            afterCR = false
            guard record >= 0, node >= 0, tree.schema.keepsText[Int(node)] else { return }
            let kept = tree.records[Int(record)]
            // Kept text must be UTF-8 (the parser checks markup, not every byte of text it drops).
            guard String(validating: tree.text[Int(kept.textStart)..<Int(kept.textEnd)], as: UTF8.self) != nil else {
                throw XMLPullParser.notWellFormed
            }
        }

        private mutating func keep(_ raw: ArraySlice<UInt8>, cdata: Bool) throws(ParseError) {
            guard let (record, node) = stack.last, record >= 0, node >= 0, tree.schema.keepsText[Int(node)] else { return }
            try S3XML.decode(raw, cdata: cdata, into: &tree.text, afterCR: &afterCR)
            let start = Int(tree.records[Int(record)].textStart)
            guard tree.text.count - start <= parser.limits.textBytes else { throw parser.tooMuchText() }
            tree.records[Int(record)].textEnd = Int32(tree.text.count)
        }
    }

    /// Reads a whole document.
    static func read(_ data: [UInt8], _ schema: Schema) throws(ParseError) -> Element {
        var reader = Reader(schema: schema)
        try reader.append(data)
        return try reader.finish()
    }

    /// Refuses a document whose root is not `name`.
    static func expect(_ root: Element, _ name: String) throws(ParseError) {
        guard root.name == name else { throw ParseError(message: "expected <\(name)>, got <\(root.name)>") }
    }
}
