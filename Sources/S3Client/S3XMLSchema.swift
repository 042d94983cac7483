#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension S3XML {
    /// Which elements of a document are kept: a tree of local names under each root name this document may have.
    /// Everything else is read (checked, counted against the bounds) and dropped, so a document costs memory only
    /// for the fields presignd uses.
    final class Schema: Sendable {
        let names: [String]
        let nameBytes: [[UInt8]]
        let children: [[Int]]
        /// Whether the element's own text is kept (only elements with no kept children).
        let keepsText: [Bool]
        let keepsAttributes: [Bool]
        let roots: [Int]

        /// `paths` by root name. A path names elements from below the root, `/` between them (`Part/ETag`); the
        /// last one's text is kept. `""` keeps the root's own text; a trailing `@` keeps an element's attributes
        /// (`Grant/Grantee@`) instead of its text.
        init(_ paths: [String: [String]]) {
            var names: [String] = []
            var children: [[Int]] = []
            var keepsText: [Bool] = []
            var keepsAttributes: [Bool] = []
            var roots: [Int] = []
            func add(_ name: String) -> Int {
                names.append(name)
                children.append([])
                keepsText.append(false)
                keepsAttributes.append(false)
                return names.count - 1
            }
            for (root, list) in paths.sorted(by: { $0.key < $1.key }) {
                let top = add(root)
                roots.append(top)
                for path in list {
                    var node = top
                    let attributes = path.hasSuffix("@")
                    let steps = (attributes ? String(path.dropLast()) : path).split(separator: "/").map(String.init)
                    for step in steps {
                        if let known = children[node].first(where: { names[$0] == step }) {
                            node = known
                        } else {
                            let made = add(step)
                            children[node].append(made)
                            node = made
                        }
                    }
                    if attributes { keepsAttributes[node] = true } else { keepsText[node] = true }
                }
            }
            for node in names.indices {
                precondition(!(keepsText[node] && !children[node].isEmpty), "S3XML.Schema: <\(names[node])> keeps both text and children")
            }
            self.names = names
            nameBytes = names.map { Array($0.utf8) }
            self.children = children
            self.keepsText = keepsText
            self.keepsAttributes = keepsAttributes
            self.roots = roots
        }

        /// The kept child of `node` with local name `local`, if any.
        func child(of node: Int, named local: ArraySlice<UInt8>) -> Int? {
            for child in children[node] where same(nameBytes[child], local) { return child }
            return nil
        }

        func root(named local: ArraySlice<UInt8>) -> Int? {
            for root in roots where same(nameBytes[root], local) { return root }
            return nil
        }

        private func same(_ name: [UInt8], _ local: ArraySlice<UInt8>) -> Bool {
            guard name.count == local.count else { return false }
            return name.withUnsafeBytes { a in local.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
        }
    }
}
