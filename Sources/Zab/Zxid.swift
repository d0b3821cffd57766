/// An epoch: the number of a primary's reign. Each established leader has its own, higher than
/// every epoch before it (Zab, DSN 2011 §III: a new primary proposes an epoch above all accepted ones).
public typealias Epoch = UInt64

/// A ZooKeeper transaction id: the epoch in the high 32 bits, a counter in the low 32 bits.
///
/// Zxids order every transaction ever proposed: a later epoch beats any counter of an earlier one,
/// and within an epoch the leader numbers its proposals 1, 2, 3, … (the counter restarts at 0 when
/// a new epoch begins). The seeds write `0x20003` for epoch 2, counter 3; ZooKeeper's own logs
/// print the full 64-bit value, `0x200000003`, as `description` does.
public struct Zxid: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(epoch: Epoch, counter: UInt64) {
        precondition(epoch <= 0xFFFF_FFFF && counter <= 0xFFFF_FFFF, "zxid fields are 32 bits: epoch \(epoch), counter \(counter)")
        rawValue = epoch << 32 | counter
    }

    /// Before any transaction: what a node with an empty history reports.
    public static let zero = Zxid(rawValue: 0)

    public var epoch: Epoch { rawValue >> 32 }
    public var counter: UInt64 { rawValue & 0xFFFF_FFFF }

    /// The next zxid a leader of the same epoch assigns.
    public var next: Zxid { Zxid(epoch: epoch, counter: counter + 1) }

    public static func < (lhs: Zxid, rhs: Zxid) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String { "0x" + String(rawValue, radix: 16) }
}
