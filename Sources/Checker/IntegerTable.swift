import ConsensusCore

/// A hash table from keys of two 64-bit words to `Int32`, for the search's hottest lookups (the
/// memo, the register's node index, the value tries).
///
/// `Dictionary` hashes every key with the seeded SipHash-1-3 of the standard library; for keys that
/// are already small integers that hashing was a third of the checker's time. Open addressing with
/// linear probing and a multiply-xorshift mixer gives the same answers at a fraction of the cost.
/// Entries are never removed, which the search does not need.
struct IntegerTable {
    private var first: [UInt64]
    private var second: [UInt64]
    /// The value of each slot; `empty` marks a free slot (values are never negative).
    private var values: [Int32]
    private var mask: Int
    private(set) var count = 0

    private static let empty: Int32 = -1

    /// A table that holds about `expected` entries before it first grows.
    init(expected: Int = 0) {
        var capacity = 16
        while capacity < expected * 2 { capacity <<= 1 }
        first = Array(repeating: 0, count: capacity)
        second = Array(repeating: 0, count: capacity)
        values = Array(repeating: Self.empty, count: capacity)
        mask = capacity - 1
    }

    /// The value stored under (`a`, `b`), if any.
    @inline(__always)
    func value(_ a: UInt64, _ b: UInt64 = 0) -> Int32? {
        var slot = Self.slot(a, b, mask)
        while true {
            let value = values[slot]
            if value == Self.empty { return nil }
            if first[slot] == a, second[slot] == b { return value }
            slot = (slot + 1) & mask
        }
    }

    /// Stores `value` (not negative) under (`a`, `b`), replacing what was there.
    mutating func set(_ a: UInt64, _ b: UInt64 = 0, to value: Int32) {
        precondition(value >= 0, "IntegerTable holds non-negative values only")
        if (count + 1) * 4 > values.count * 3 { grow() }
        var slot = Self.slot(a, b, mask)
        while values[slot] != Self.empty {
            if first[slot] == a, second[slot] == b {
                values[slot] = value
                return
            }
            slot = (slot + 1) & mask
        }
        first[slot] = a
        second[slot] = b
        values[slot] = value
        count += 1
    }

    private mutating func grow() {
        let old = (first, second, values)
        let capacity = values.count * 2
        first = Array(repeating: 0, count: capacity)
        second = Array(repeating: 0, count: capacity)
        values = Array(repeating: Self.empty, count: capacity)
        mask = capacity - 1
        count = 0
        for index in old.2.indices where old.2[index] != Self.empty {
            set(old.0[index], old.1[index], to: old.2[index])
        }
    }

    /// SplitMix64's finaliser over both words: every input bit reaches the low bits the mask keeps.
    @inline(__always)
    private static func slot(_ a: UInt64, _ b: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: SplitMix64.mix(a &+ b &* SplitMix64.golden)) & mask
    }
}
