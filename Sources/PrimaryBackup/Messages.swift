import ConsensusCore

extension PrimaryBackup {
    /// The wire protocol: Redis replication (REPLICATE, REPLCONF-ACK, PSYNC, FULLRESYNC) and a
    /// Sentinel-style failover vote (VOTE-REQUEST, VOTE, PROMOTE).
    public enum Message: WireMessage {
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
        case promote(epoch: UInt64)

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

        public var byteCount: Int {
            switch self {
            case .replicate(let message): 48 + message.writes.reduce(0) { $0 + $1.byteCount }
            case .ack, .psync: 40
            case .fullResync(let message): 48 + message.data.count
            case .voteRequest, .vote: 40
            case .promote: 16
            }
        }
    }

    /// A slice of the primary's history. It carries the primary's replication IDs, so a backup can
    /// tell on its own whether the writes continue its data (and switch to the new ID) or whether it
    /// needs a PSYNC.
    public struct Replicate: Sendable {
        /// The sender's configuration, which is also the ID of its history.
        public var config: Configuration
        public var previousID: Configuration?
        public var previousEnd: Int
        public var prevOffset: Int
        public var writes: [ClientRequest]

        public init(config: Configuration, previousID: Configuration?, previousEnd: Int, prevOffset: Int, writes: [ClientRequest]) {
            self.config = config
            self.previousID = previousID
            self.previousEnd = previousEnd
            self.prevOffset = prevOffset
            self.writes = writes
        }
    }

    /// Where a node stands: whom it follows, which history its data belongs to, and how far.
    public struct SyncPosition: Sendable {
        public var config: Configuration
        public var history: Configuration?
        public var offset: Int

        public init(config: Configuration, history: Configuration?, offset: Int) {
            self.config = config
            self.history = history
            self.offset = offset
        }
    }

    public struct FullResync: Sendable {
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

    public struct VoteRequest: Sendable {
        public var epoch: UInt64
        /// The configuration the candidate considers failed.
        public var config: Configuration

        public init(epoch: UInt64, config: Configuration) {
            self.epoch = epoch
            self.config = config
        }
    }

    public struct Vote: Sendable {
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
