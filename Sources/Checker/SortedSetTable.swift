/// Hash-consed sorted sets of small integers, each named by an `Int32`.
///
/// The search's memo (Lowe 2017) keys on "which operations are linearized"; storing that set as a
/// bitset would cost a bitset per memo entry, which for a key with 10^5 operations is gigabytes. A
/// set here is a linked list of cells `(element, rest)`, and equal lists are one cell, so a set is
/// one integer: equal sets have equal names and a memo entry is a few integers. Sets that grow at
/// their head, which is how the search uses them, cost one cell per insertion.
struct SortedSetTable {
    typealias SetID = Int32
    static let empty: SetID = 0

    private(set) var element: [Int32] = [-1]
    private(set) var rest: [SetID] = [-1]
    private var index: [UInt64: SetID] = [:]
    private var buffer: [Int32] = []

    /// The set `{head} ∪ tail`, where `head` comes before every element of `tail`.
    mutating func cons(_ head: Int32, _ tail: SetID) -> SetID {
        let slot = UInt64(UInt32(bitPattern: head)) << 32 | UInt64(UInt32(bitPattern: tail))
        if let existing = index[slot] { return existing }
        let id = SetID(element.count)
        element.append(head)
        rest.append(tail)
        index[slot] = id
        return id
    }

    func first(_ set: SetID) -> Int32? { set == Self.empty ? nil : element[Int(set)] }

    func removingFirst(_ set: SetID) -> SetID { rest[Int(set)] }

    /// Inserts `value` into `set`, whose elements are ordered by `precedes` (ascending: `<`).
    mutating func inserting(_ value: Int32, into set: SetID, precedes: (Int32, Int32) -> Bool) -> SetID {
        buffer.removeAll(keepingCapacity: true)
        var tail = set
        while tail != Self.empty, precedes(element[Int(tail)], value) {
            buffer.append(element[Int(tail)])
            tail = rest[Int(tail)]
        }
        var result = cons(value, tail)
        for earlier in buffer.reversed() { result = cons(earlier, result) }
        return result
    }

    /// Whether every element of `subset` is in `set`, both ordered by `>` (descending); with
    /// repeated elements, whether `subset` is contained as a multiset.
    func isSubset(_ subset: SetID, of set: SetID) -> Bool {
        var small = subset, large = set
        while small != Self.empty {
            let wanted = element[Int(small)]
            while large != Self.empty, element[Int(large)] > wanted { large = rest[Int(large)] }
            guard large != Self.empty, element[Int(large)] == wanted else { return false }
            small = rest[Int(small)]
            large = rest[Int(large)]
        }
        return true
    }
}
