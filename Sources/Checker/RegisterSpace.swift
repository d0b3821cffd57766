import ConsensusCore

/// The states of one key's register, as small integers, and the register's transitions.
///
/// The search compares and memoises states millions of times, so a state is an `Int32`, never a
/// string. Values are interned per key (`ValueID`, 0 standing for "absent"). States are nodes of a
/// hash-consed tree: a node is "the string of its parent node followed by one fragment", so a put is
/// a node under the root and an append adds one node under the current state, in constant time,
/// however long the string has grown. Two nodes can spell the same string (a put of "ab" and a put
/// of "a" followed by an append of "b"); comparisons with observed values are therefore by content
/// (length and hash, confirmed byte by byte), and the only cost of two nodes for one string is a
/// missed memo hit.
///
/// One more state, `junk`, stands for every value that no operation still to be linearized can
/// tell apart (no read returns it, no cas expects it, as a whole or as a piece; appending keeps it
/// so). All such values behave identically for the rest of the search, so merging them lets the
/// memo recognise states that differ only in which unobservable value was written. Writing a value
/// nobody ever observes leads to `junk`; the search also lands there when it applies a timed-out
/// write only to explain a cas mismatch.
struct RegisterSpace {
    typealias StateID = Int32
    typealias ValueID = Int32

    /// The key does not exist (the initial state, and the state after a delete).
    static let absent: StateID = 0
    /// Some value nothing left can observe.
    static let junk: StateID = 1
    /// Value id of "no value": a read of a missing key, a cas expecting the key to be absent.
    static let noValue: ValueID = 0

    let hasAppends: Bool
    /// Interned values; index 0 is the placeholder for "no value".
    let values: [String]
    private let valueHash: [UInt64]
    private let valueLength: [Int]
    /// B^length of each value, to extend a node's hash by a fragment.
    private let valuePower: [UInt64]
    /// The state right after writing each value over anything.
    private var putState: [StateID] = []
    private let observed: [Bool]

    private var nodeParent: [StateID] = [-1, -1]
    private var nodeFragment: [ValueID] = [0, 0]
    private var nodeHash: [UInt64] = [0, 0]
    private var nodeLength: [Int] = [0, 0]
    /// A value already confirmed, byte by byte, to equal the node's string.
    private var nodeConfirmed: [ValueID] = [-1, -1]
    /// The unique text each node spells (see `uniqueText(of:)`): -1 none, -2 not yet looked up.
    private var nodeText: [ValueID] = [-1, -1]
    /// Unique texts by hash, to look a node's text up.
    private var uniqueByHash: [UInt64: ValueID] = [:]
    /// (parent, fragment) → node, so that equal constructions give equal nodes.
    private var nodeIndex = IntegerTable()
    private var fragmentBuffer: [ValueID] = []

    static let hashBase: UInt64 = 0x0000_0100_0000_01B3

    /// - Parameter observed: per value, whether some operation of the key can ever tell it apart
    ///   (with appends: as a piece of a value it observes); the others collapse into `junk`.
    /// - Parameter unique: per value, whether it is a text that can be the register's value during
    ///   at most one stretch of any execution (`KeyHistory.uniqueTexts`).
    init(values: [String], observed: [Bool], unique: [Bool] = [], hasAppends: Bool) {
        self.values = values
        self.hasAppends = hasAppends
        // The empty string is part of every value: never collapse it.
        self.observed = observed.indices.map { observed[$0] || values[$0].isEmpty }
        var hashes: [UInt64] = [], lengths: [Int] = [], powers: [UInt64] = []
        hashes.reserveCapacity(values.count)
        for value in values {
            var hash: UInt64 = 0, power: UInt64 = 1
            for byte in value.utf8 {
                hash = hash &* Self.hashBase &+ UInt64(byte) &+ 1
                power = power &* Self.hashBase
            }
            hashes.append(hash)
            lengths.append(value.utf8.count)
            powers.append(power)
        }
        valueHash = hashes
        valueLength = lengths
        valuePower = powers
        for value in unique.indices where unique[value] && uniqueByHash[hashes[value]] == nil {
            uniqueByHash[hashes[value]] = ValueID(value)
        }
        putState = [Self.absent]
        putState.reserveCapacity(values.count)
        for value in 1..<values.count {
            putState.append(self.observed[value] ? node(parent: Self.absent, fragment: ValueID(value)) : Self.junk)
        }
    }

    /// The node for "parent's string followed by fragment" (`absent` as parent stands for "").
    private mutating func node(parent: StateID, fragment: ValueID) -> StateID {
        let slot = UInt64(UInt32(bitPattern: parent)) << 32 | UInt64(UInt32(bitPattern: fragment))
        if let existing = nodeIndex.value(slot) { return existing }
        let id = StateID(nodeParent.count)
        let base = Int(parent)
        nodeParent.append(parent)
        nodeFragment.append(fragment)
        nodeHash.append(nodeHash[base] &* valuePower[Int(fragment)] &+ valueHash[Int(fragment)])
        nodeLength.append(nodeLength[base] + valueLength[Int(fragment)])
        nodeConfirmed.append(-1)
        nodeText.append(-2)
        nodeIndex.set(slot, to: id)
        return id
    }

    /// Whether the register in `state` holds `value` (`noValue`: the key is absent).
    mutating func holds(_ state: StateID, _ value: ValueID) -> Bool {
        if value == Self.noValue { return state == Self.absent }
        if state == Self.absent || state == Self.junk { return false }
        let fast = putState[Int(value)]
        if state == fast || !hasAppends { return state == fast }
        let s = Int(state)
        guard nodeLength[s] == valueLength[Int(value)], nodeHash[s] == valueHash[Int(value)] else { return false }
        if nodeConfirmed[s] == value { return true }
        guard spells(state, values[Int(value)]) else { return false }
        nodeConfirmed[s] = value
        return true
    }

    /// Whether `state` spells exactly the first `length` bytes of `value`.
    mutating func spells(_ state: StateID, prefixOf value: ValueID, length: Int) -> Bool {
        guard state != Self.junk, nodeLength[Int(state)] == length else { return false }
        return spells(state, String(decoding: values[Int(value)].utf8.prefix(length), as: UTF8.self))
    }

    /// Whether the node's string is `text`, compared byte by byte (lengths already agree).
    private mutating func spells(_ state: StateID, _ text: String) -> Bool {
        fragmentBuffer.removeAll(keepingCapacity: true)
        var node = state
        while node != Self.absent {
            fragmentBuffer.append(nodeFragment[Int(node)])
            node = nodeParent[Int(node)]
        }
        var bytes = text.utf8.makeIterator()
        for fragment in fragmentBuffer.reversed() {
            for byte in values[Int(fragment)].utf8 {
                guard bytes.next() == byte else { return false }
            }
        }
        return true
    }

    func written(_ value: ValueID) -> StateID { putState[Int(value)] }

    /// Whether `state` may spell the text whose first `length` bytes hash to `hash` (`prefixHash`):
    /// false is certain, true up to a hash collision.
    func maySpell(_ state: StateID, length: Int, hash: UInt64) -> Bool {
        state != Self.junk && nodeLength[Int(state)] == length && nodeHash[Int(state)] == hash
    }

    /// The length and hash of the string a state spells (`junk`: a length no text has).
    func signature(of state: StateID) -> (length: Int, hash: UInt64) {
        state == Self.junk ? (-1, 0) : (nodeLength[Int(state)], nodeHash[Int(state)])
    }

    /// The hashes `maySpell` compares with: of the first `length` bytes of `text`, for each of
    /// `lengths` (ascending), in one pass.
    static func prefixHashes(_ text: String, lengths: [Int]) -> [UInt64] {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(lengths.count)
        var hash: UInt64 = 0, position = 0
        var bytes = text.utf8.makeIterator()
        for length in lengths {
            while position < length, let byte = bytes.next() {
                hash = hash &* hashBase &+ UInt64(byte) &+ 1
                position += 1
            }
            hashes.append(hash)
        }
        return hashes
    }

    /// The unique text (a value id) the register holds in `state`, or -1 if it holds none: a
    /// state the register can leave only for good.
    mutating func uniqueText(of state: StateID) -> ValueID {
        let s = Int(state)
        if nodeText[s] != -2 { return nodeText[s] }
        var found: ValueID = -1
        if let value = uniqueByHash[nodeHash[s]], holds(state, value) { found = value }
        nodeText[s] = found
        return found
    }

    /// The state after appending `fragment` (KVStore: appending to a missing key starts from "").
    mutating func appending(_ fragment: ValueID, to state: StateID) -> StateID {
        if state == Self.absent { return putState[Int(fragment)] }
        if valueLength[Int(fragment)] == 0 { return state }
        // A fragment nothing observes makes the whole value unobservable.
        if state == Self.junk || !observed[Int(fragment)] { return Self.junk }
        return node(parent: state, fragment: fragment)
    }

    /// A readable form of a state, for explanations; long strings are shortened in the middle.
    func describe(_ state: StateID) -> String {
        switch state {
        case Self.absent: return "absent"
        case Self.junk: return "a value no operation observed"
        default:
            var fragments: [String] = []
            var node = state
            while node != Self.absent {
                fragments.append(values[Int(nodeFragment[Int(node)])])
                node = nodeParent[Int(node)]
            }
            return quoted(fragments.reversed().joined())
        }
    }
}

/// A value in double quotes, shortened in the middle beyond 80 characters so that an explanation
/// of a long appended string stays one readable line.
func quoted(_ value: String?) -> String {
    guard let value else { return "absent" }
    var text = ""
    let shown = value.count > 80 ? String(value.prefix(38)) + "…" + String(value.suffix(38)) : value
    JSONValue.writeString(shown, to: &text)
    return text
}
