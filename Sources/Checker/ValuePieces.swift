/// Which written values can be part of a value someone observed, for keys with appends.
///
/// With appends, a register value is the value of the last put or cas (or of the first append
/// after the key was absent) followed by the fragments of the appends after it. So an observed
/// value can only be a concatenation `first + fragment + … + fragment` of written values, and a
/// write can only have been observed if its value is one of the pieces of such a decomposition.
/// Testing "is a substring of" instead would let the value "v12" be seen in "v1234", keeping
/// timed-out writes alive in the search long after anything could still see them.
///
/// For each observed text, a trie of the written values finds every piece that occurs in some
/// complete decomposition: forward, which prefixes decompose; backward, which suffixes decompose
/// into fragments; a piece counts if its start is reachable and its end can be completed.
struct ValuePieces {
    private var children = IntegerTable()
    /// For each trie node, the value that ends there, if any.
    private var ending: [RegisterSpace.ValueID] = [-1]
    private let isFragment: [Bool]

    /// The pieces of a key's values: every value written by a put, cas or append.
    init(_ model: [ModelOperation], values: [String]) {
        var written = Set<RegisterSpace.ValueID>()
        var isFragment = [Bool](repeating: false, count: values.count)
        for operation in model {
            switch operation.action {
            case .put(let value), .cas(_, let value): written.insert(value)
            case .append(let value): written.insert(value); isFragment[Int(value)] = true
            case .read, .differs, .delete: break
            }
        }
        self.isFragment = isFragment
        for value in written.sorted() where !values[Int(value)].isEmpty {
            var node: Int32 = 0
            for byte in values[Int(value)].utf8 {
                let slot = UInt64(node) << 8 | UInt64(byte)
                if let child = children.value(slot) {
                    node = child
                } else {
                    let child = Int32(ending.count)
                    ending.append(-1)
                    children.set(slot, to: child)
                    node = child
                }
            }
            ending[Int(node)] = value
        }
    }

    /// The written values matching `bytes` at `start`, with their end positions.
    private func matches(_ bytes: [UInt8], at start: Int, _ body: (RegisterSpace.ValueID, Int) -> Void) {
        var node: Int32 = 0
        var position = start
        while position < bytes.count, let child = children.value(UInt64(node) << 8 | UInt64(bytes[position])) {
            node = child
            position += 1
            if ending[Int(node)] >= 0 { body(ending[Int(node)], position) }
        }
    }

    /// Every written value that is a piece of some decomposition of `text` (the first piece may
    /// be any written value, the others only fragments), and whether it is a piece of every one.
    ///
    /// A piece is in every decomposition when no other usable piece spans its start or end and
    /// it is the only usable piece from its start: then every decomposition passes through both
    /// ends, and the only way between them is this piece.
    func pieces(of text: String) -> [(value: RegisterSpace.ValueID, inEvery: Bool)] {
        let bytes = Array(text.utf8)
        let count = bytes.count
        // completes[i]: bytes[i...] is a (possibly empty) sequence of fragments.
        var completes = [Bool](repeating: false, count: count + 1)
        completes[count] = true
        for start in stride(from: count - 1, through: 0, by: -1) {
            matches(bytes, at: start) { value, end in
                if isFragment[Int(value)], completes[end] { completes[start] = true }
            }
        }
        // reached[i]: bytes[..<i] is a first piece followed by fragments.
        var reached = [Bool](repeating: false, count: count + 1)
        var usable: [(value: RegisterSpace.ValueID, start: Int, end: Int)] = []
        for start in 0..<count where start == 0 || reached[start] {
            matches(bytes, at: start) { value, end in
                guard start == 0 || isFragment[Int(value)] else { return }
                reached[end] = true
                if completes[end] { usable.append((value, start, end)) }
            }
        }
        // Positions strictly inside some usable piece are skipped by the decompositions using it.
        var crossing = [Int](repeating: 0, count: count + 2)
        var fromStart = [Int](repeating: 0, count: count + 1)
        for piece in usable {
            crossing[piece.start + 1] += 1
            crossing[piece.end] -= 1
            fromStart[piece.start] += 1
        }
        var skipped = [Bool](repeating: false, count: count + 1)
        var open = 0
        for position in 0...count {
            open += crossing[position]
            skipped[position] = open > 0
        }
        return usable.map { piece in
            (piece.value, !skipped[piece.start] && !skipped[piece.end] && fromStart[piece.start] == 1)
        }
    }
}
