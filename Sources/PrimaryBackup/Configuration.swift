import ConsensusCore

extension PrimaryBackup {
    /// Which node is primary and the epoch it was promoted in (Redis Sentinel's *configuration epoch*).
    ///
    /// A configuration also names the history of writes its primary starts: Redis gives every new
    /// master a fresh replication ID; here the configuration is that ID. It is unique: a primary is
    /// promoted only by the winner of a majority vote in a fresh epoch (one vote per node and epoch),
    /// and the first configuration, epoch 0 with the lowest node id, is fixed.
    public struct Configuration: Hashable, Sendable, CustomStringConvertible {
        public var epoch: UInt64
        public var primary: NodeID

        public init(epoch: UInt64, primary: NodeID) {
            self.epoch = epoch
            self.primary = primary
        }

        /// Sentinel's rule: the configuration with the greater epoch wins. Equal epochs with different
        /// primaries can only follow a vote lost with unsynced storage; the lower id wins, so every
        /// node settles on the same primary anyway.
        func supersedes(_ other: Configuration) -> Bool {
            epoch != other.epoch ? epoch > other.epoch : primary < other.primary
        }

        public var description: String { "\(primary)@\(epoch)" }
    }
}

/// Encoded as the epoch (u64) and the primary's node id (i64, positive).
extension PrimaryBackup.Configuration: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(epoch)
        writer.write(primary.rawValue)
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(epoch: try reader.readUInt64(), primary: try reader.readNodeID())
    }

    public var byteCount: Int { 16 }
}

extension ByteWriter {
    mutating func write(_ configuration: PrimaryBackup.Configuration?) {
        write(configuration != nil)
        if let configuration { write(configuration) }
    }
}

extension ByteReader {
    mutating func readConfiguration() throws(BinaryDecodingError) -> PrimaryBackup.Configuration? {
        try readBool() ? try read(PrimaryBackup.Configuration.self) : nil
    }
}
