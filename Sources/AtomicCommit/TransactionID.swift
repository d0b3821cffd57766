import ConsensusCore

/// A transaction's identity: the node that coordinates it and that node's own counter.
///
/// Unique across nodes without any coordination, and across restarts: a coordinator logs every
/// transaction it starts before it asks for a single vote, so after a crash it resumes counting
/// above the highest id in its own log.
public struct TransactionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let coordinator: NodeID
    public let counter: UInt64

    public init(coordinator: NodeID, counter: UInt64) {
        self.coordinator = coordinator
        self.counter = counter
    }

    /// The id as `ObservableEvent`s carry it: the coordinator in the top 16 bits, the counter below.
    public var rawValue: UInt64 { UInt64(coordinator.rawValue) << 48 | counter }

    public static func < (lhs: TransactionID, rhs: TransactionID) -> Bool {
        (lhs.coordinator, lhs.counter) < (rhs.coordinator, rhs.counter)
    }

    public var description: String { ObservableEvent.transactionName(rawValue) }
}

extension TransactionID: BinaryCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(coordinator.rawValue)
        writer.write(counter)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        let node = try reader.readInt()
        let counter = try reader.readUInt64()
        guard (1..<(1 << 16)).contains(node), counter < 1 << 48 else { throw .invalid("transaction id", offset: start) }
        self.init(coordinator: NodeID(node), counter: counter)
    }
}
