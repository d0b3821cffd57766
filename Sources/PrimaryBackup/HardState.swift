import ConsensusCore

extension PrimaryBackup {
    /// What a node keeps on disk besides its log: Sentinel's persisted configuration (current epoch,
    /// last vote, the primary) and Redis's replication IDs, so that after a restart it votes at most
    /// once per epoch and can resynchronise partially.
    public struct HardState: BinaryCodable, Sendable, Equatable {
        /// Sentinel's current epoch: the highest epoch this node has voted in or seen asked for.
        public var currentEpoch: UInt64
        /// The epoch of this node's last failover vote and who got it (Sentinel's leader epoch and
        /// leader): one vote per epoch, so at most one failover wins each epoch.
        public var votedEpoch: UInt64
        public var votedFor: NodeID?
        /// The primary this node follows, or is.
        public var config: Configuration
        /// Redis's replication ID (`replid`): the history the node's data is a prefix of; `nil` while
        /// unknown (a full resync was interrupted), which forces a full resync.
        public var replicationID: Configuration?
        /// Redis's `replid2` and `second_replid_offset`: the history this one continued, and the last
        /// offset up to which the two agree. Backups of the previous primary whose offset is not past
        /// it can continue partially.
        public var previousID: Configuration?
        public var previousEnd: Int

        /// A fresh cluster: the lowest id is primary in epoch 0 and every node holds its (empty) history.
        public init(initialPrimary: NodeID) {
            currentEpoch = 0
            votedEpoch = 0
            votedFor = nil
            config = Configuration(epoch: 0, primary: initialPrimary)
            replicationID = config
            previousID = nil
            previousEnd = 0
        }

        public func encode(to writer: inout ByteWriter) {
            writer.write(currentEpoch)
            writer.write(votedEpoch)
            writer.write(votedFor?.rawValue ?? 0)
            writer.write(config)
            writer.write(replicationID)
            writer.write(previousID)
            writer.write(previousEnd)
        }

        public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
            currentEpoch = try reader.readUInt64()
            votedEpoch = try reader.readUInt64()
            let voted = try reader.readInt()
            votedFor = voted == 0 ? nil : NodeID(voted)
            config = try reader.read(Configuration.self)
            replicationID = try reader.readConfiguration()
            previousID = try reader.readConfiguration()
            previousEnd = try reader.readInt()
        }

        /// Whether data at `offset` of `history` is also this node's data at that offset: the PSYNC
        /// test (same replication ID, or the previous one up to `previousEnd`), given `offset ≤` the
        /// node's own offset.
        func continues(_ history: Configuration?, upTo offset: Int) -> Bool {
            guard let history else { return false }
            return history == replicationID || (history == previousID && offset <= previousEnd)
        }
    }
}
