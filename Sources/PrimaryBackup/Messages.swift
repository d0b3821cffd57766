import ConsensusCore

extension PrimaryBackup {
    /// The wire protocol: Redis replication (REPLICATE, REPLCONF-ACK, PSYNC, FULLRESYNC) and a
    /// Sentinel-style failover vote (VOTE-REQUEST, VOTE, PROMOTE).
    public enum Message: WireMessage, Hashable {
        /// Primary → every other node: writes after `prevOffset` (none for a heartbeat).
        case replicate(Replicate)
        /// Backup → primary, every heartbeat (`REPLCONF ACK <offset>`): progress and liveness, for
        /// `minReplicasToWrite`. Also the answer that tells a stale primary of a newer configuration.
        case ack(SyncPosition)
        /// Backup → primary: "send me what follows this position" (a gap, a new primary, an
        /// unknown history). Answered with REPLICATE from there, or FULLRESYNC.
        case psync(SyncPosition)
        /// Primary → backup: the whole state machine at `offset`, replacing the backup's.
        case fullResync(FullResync)
        /// Candidate → every other node: vote for me to lead the failover of `config` in `epoch`
        /// (Sentinel's `is-master-down-by-addr` with a run id).
        case voteRequest(VoteRequest)
        /// Answer to a VOTE-REQUEST, carrying the voter's replication offset so that the winner can
        /// promote the most up-to-date node.
        case vote(Vote)
        /// Failover winner → chosen node: become primary in `epoch` (Sentinel's `REPLICAOF NO ONE`).
        /// `highest`: the highest offset a counted voter reported, which the chosen node checks
        /// its own vote's offset against.
        case promote(epoch: UInt64, highest: Int)

        public enum Kind: String, CaseIterable, Sendable {
            case replicate = "REPLICATE", ack = "REPLCONF-ACK", psync = "PSYNC", fullResync = "FULLRESYNC"
            case voteRequest = "VOTE-REQUEST", vote = "VOTE", promote = "PROMOTE"
        }

        public var kind: Kind {
            switch self {
            case .replicate: .replicate
            case .ack: .ack
            case .psync: .psync
            case .fullResync: .fullResync
            case .voteRequest: .voteRequest
            case .vote: .vote
            case .promote: .promote
            }
        }
    }

    /// A slice of the primary's history. It carries the primary's replication IDs, so a backup can
    /// tell on its own whether the writes continue its data (and switch to the new ID) or whether it
    /// needs a PSYNC.
    public struct Replicate: Hashable, Sendable {
        /// The sender's configuration, which is also the ID of its history.
        public var config: Configuration
        public var previousID: Configuration?
        public var previousEnd: Int
        public var prevOffset: Int
        /// Each with the primary's time when it accepted it, at which every backup applies it.
        public var writes: [StampedRequest]

        public init(config: Configuration, previousID: Configuration?, previousEnd: Int, prevOffset: Int, writes: [StampedRequest]) {
            self.config = config
            self.previousID = previousID
            self.previousEnd = previousEnd
            self.prevOffset = prevOffset
            self.writes = writes
        }
    }

    /// Where a node stands: whom it follows, which history its data belongs to, and how far.
    public struct SyncPosition: Hashable, Sendable {
        public var config: Configuration
        public var history: Configuration?
        public var offset: Int

        public init(config: Configuration, history: Configuration?, offset: Int) {
            self.config = config
            self.history = history
            self.offset = offset
        }
    }

    public struct FullResync: Hashable, Sendable {
        public var config: Configuration
        public var previousID: Configuration?
        public var previousEnd: Int
        public var offset: Int
        /// `KVStore.snapshot()` at `offset` (data and client sessions, so exactly-once carries over).
        public var data: [UInt8]

        public init(config: Configuration, previousID: Configuration?, previousEnd: Int, offset: Int, data: [UInt8]) {
            self.config = config
            self.previousID = previousID
            self.previousEnd = previousEnd
            self.offset = offset
            self.data = data
        }
    }

    public struct VoteRequest: Hashable, Sendable {
        public var epoch: UInt64
        /// The configuration the candidate considers failed.
        public var config: Configuration

        public init(epoch: UInt64, config: Configuration) {
            self.epoch = epoch
            self.config = config
        }
    }

    public struct Vote: Hashable, Sendable {
        /// The voter's current epoch: the request's when granted, possibly higher when refused.
        public var epoch: UInt64
        public var granted: Bool
        public var config: Configuration
        public var offset: Int

        public init(epoch: UInt64, granted: Bool, config: Configuration, offset: Int) {
            self.epoch = epoch
            self.granted = granted
            self.config = config
            self.offset = offset
        }
    }
}

/// The wire encoding: a tag byte naming the case, then the fields in declaration order.
/// Configurations are epoch u64 and primary i64; optional ones a presence byte first; offsets i64 (≥ 0).
///
///     0 replicate    config, previousID?, previousEnd, prevOffset, writes (u32 count, then each
///                    `StampedRequest`)
///     1 ack          config, history?, offset
///     2 psync        config, history?, offset
///     3 fullResync   config, previousID?, previousEnd, offset, data (u32 length + bytes)
///     4 voteRequest  epoch u64, config
///     5 vote         epoch u64, granted bool, config, offset
///     6 promote      epoch u64, highest offset
extension PrimaryBackup.Message {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .replicate(let m):
            writer.write(0 as UInt8); writer.write(m.config); writer.write(m.previousID); writer.write(m.previousEnd)
            writer.write(m.prevOffset); writer.write(m.writes)
        case .ack(let position):
            writer.write(1 as UInt8); position.encode(to: &writer)
        case .psync(let position):
            writer.write(2 as UInt8); position.encode(to: &writer)
        case .fullResync(let m):
            writer.write(3 as UInt8); writer.write(m.config); writer.write(m.previousID); writer.write(m.previousEnd)
            writer.write(m.offset); writer.write(m.data)
        case .voteRequest(let m):
            writer.write(4 as UInt8); writer.write(m.epoch); writer.write(m.config)
        case .vote(let m):
            writer.write(5 as UInt8); writer.write(m.epoch); writer.write(m.granted); writer.write(m.config); writer.write(m.offset)
        case .promote(let epoch, let highest):
            writer.write(6 as UInt8); writer.write(epoch); writer.write(highest)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0:
            let config = try reader.read(PrimaryBackup.Configuration.self)
            let previousID = try reader.readConfiguration()
            let previousEnd = try reader.readNonNegativeInt("previous history end")
            let prevOffset = try reader.readNonNegativeInt("previous offset")
            let writes = try reader.readArray(of: StampedRequest.self, minimumElementSize: StampedRequest.minimumByteCount)
            self = .replicate(PrimaryBackup.Replicate(config: config, previousID: previousID, previousEnd: previousEnd, prevOffset: prevOffset, writes: writes))
        case 1: self = .ack(try PrimaryBackup.SyncPosition(from: &reader))
        case 2: self = .psync(try PrimaryBackup.SyncPosition(from: &reader))
        case 3:
            self = .fullResync(PrimaryBackup.FullResync(config: try reader.read(), previousID: try reader.readConfiguration(),
                                                        previousEnd: try reader.readNonNegativeInt("previous history end"),
                                                        offset: try reader.readNonNegativeInt("offset"), data: try reader.readBytes()))
        case 4: self = .voteRequest(PrimaryBackup.VoteRequest(epoch: try reader.readUInt64(), config: try reader.read()))
        case 5:
            self = .vote(PrimaryBackup.Vote(epoch: try reader.readUInt64(), granted: try reader.readBool(), config: try reader.read(),
                                            offset: try reader.readNonNegativeInt("offset")))
        case 6: self = .promote(epoch: try reader.readUInt64(), highest: try reader.readNonNegativeInt("highest offset"))
        default: throw .invalid("primary-backup message tag", offset: start)
        }
    }

    /// The encoded length, computed without encoding.
    public var byteCount: Int {
        switch self {
        case .replicate(let m): 33 + (m.previousID == nil ? 1 : 17) + WireSize.array(m.writes)
        case .ack(let position), .psync(let position): 1 + position.byteCount
        case .fullResync(let m): 33 + (m.previousID == nil ? 1 : 17) + WireSize.bytes(m.data)
        case .voteRequest: 25
        case .vote: 34
        case .promote: 17
        }
    }
}

extension PrimaryBackup.SyncPosition {
    func encode(to writer: inout ByteWriter) {
        writer.write(config)
        writer.write(history)
        writer.write(offset)
    }

    init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        self.init(config: try reader.read(), history: try reader.readConfiguration(), offset: try reader.readNonNegativeInt("offset"))
    }

    var byteCount: Int { 16 + (history == nil ? 1 : 17) + 8 }
}
