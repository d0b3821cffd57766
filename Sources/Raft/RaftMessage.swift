import ConsensusCore

/// Raft's RPCs (Figure 2, §7, thesis §9.6) as one-way messages; the driver tells the receiver
/// who sent each one, so no message carries its sender.
///
/// Every message a leader sends carries its current read *round* and every reply echoes it: a
/// reply to round `r` proves the follower still accepted this leader after round `r` began, which
/// is what ReadIndex and leases need (thesis §6.4) without extra messages while entries flow.
public enum RaftMessage: WireMessage, Hashable {
    case requestVote(VoteRequest)
    case voteReply(VoteReply)
    case appendEntries(AppendEntries)
    case appendReply(AppendReply)
    /// An AppendEntries without entries or consistency check (etcd's MsgHeartbeat): it keeps
    /// followers from timing out, tells them the commit index they can safely adopt, and opens a
    /// read round. Keeping it separate from AppendEntries lets the log pipeline run without
    /// heartbeats failing the consistency check behind optimistic `nextIndex` values.
    case heartbeat(Heartbeat)
    case heartbeatReply(HeartbeatReply)
    case installSnapshot(InstallSnapshot)
    case snapshotReply(SnapshotReply)

    public enum Kind: String, CaseIterable, Sendable {
        case preVote = "PRE_VOTE"
        case preVoteReply = "PRE_VOTE_REPLY"
        case requestVote = "REQUEST_VOTE"
        case requestVoteReply = "REQUEST_VOTE_REPLY"
        case appendEntries = "APPEND_ENTRIES"
        case appendEntriesReply = "APPEND_ENTRIES_REPLY"
        case heartbeat = "HEARTBEAT"
        case heartbeatReply = "HEARTBEAT_REPLY"
        case installSnapshot = "INSTALL_SNAPSHOT"
        case installSnapshotReply = "INSTALL_SNAPSHOT_REPLY"
    }

    public var kind: Kind {
        switch self {
        case .requestVote(let m): m.preVote ? .preVote : .requestVote
        case .voteReply(let m): m.preVote ? .preVoteReply : .requestVoteReply
        case .appendEntries: .appendEntries
        case .appendReply: .appendEntriesReply
        case .heartbeat: .heartbeat
        case .heartbeatReply: .heartbeatReply
        case .installSnapshot: .installSnapshot
        case .snapshotReply: .installSnapshotReply
        }
    }

    /// The sender's term (for a pre-vote request: the term it would campaign in).
    public var term: Term {
        switch self {
        case .requestVote(let m): m.term
        case .voteReply(let m): m.term
        case .appendEntries(let m): m.term
        case .appendReply(let m): m.term
        case .heartbeat(let m): m.term
        case .heartbeatReply(let m): m.term
        case .installSnapshot(let m): m.term
        case .snapshotReply(let m): m.term
        }
    }

}

/// The wire encoding: a tag byte naming the case, then the fields in declaration order.
///
///     0 requestVote     term u64, lastLogIndex i64, lastLogTerm u64, preVote bool
///     1 voteReply       term u64, granted bool, preVote bool
///     2 appendEntries   term u64, prevLogIndex i64, prevLogTerm u64, leaderCommit i64, round u64,
///                       entries (u32 count, then each `RaftEntry`)
///     3 appendReply     term u64, success bool, index i64, hintIndex i64, hintTerm u64, round u64
///     4 heartbeat       term u64, commit i64, round u64
///     5 heartbeatReply  term u64, round u64
///     6 installSnapshot term u64, round u64, chunk (`SnapshotChunk`: lastIndex i64, lastTerm u64,
///                       offset i64, data, done bool)
///     7 snapshotReply   term u64, lastIndex i64, bytesStored i64, matchIndex i64?, round u64
///
/// Log indexes are never negative; a negative one is a decoding error.
extension RaftMessage {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .requestVote(let m):
            writer.write(0 as UInt8); writer.write(m.term); writer.write(m.lastLogIndex); writer.write(m.lastLogTerm); writer.write(m.preVote)
        case .voteReply(let m):
            writer.write(1 as UInt8); writer.write(m.term); writer.write(m.granted); writer.write(m.preVote)
        case .appendEntries(let m):
            writer.write(2 as UInt8); writer.write(m.term); writer.write(m.prevLogIndex); writer.write(m.prevLogTerm)
            writer.write(m.leaderCommit); writer.write(m.round); writer.write(m.entries)
        case .appendReply(let m):
            writer.write(3 as UInt8); writer.write(m.term); writer.write(m.success); writer.write(m.index)
            writer.write(m.hintIndex); writer.write(m.hintTerm); writer.write(m.round)
        case .heartbeat(let m):
            writer.write(4 as UInt8); writer.write(m.term); writer.write(m.commit); writer.write(m.round)
        case .heartbeatReply(let m):
            writer.write(5 as UInt8); writer.write(m.term); writer.write(m.round)
        case .installSnapshot(let m):
            writer.write(6 as UInt8); writer.write(m.term); writer.write(m.round); writer.write(m.chunk)
        case .snapshotReply(let m):
            writer.write(7 as UInt8); writer.write(m.term); writer.write(m.lastIndex); writer.write(m.bytesStored)
            writer.write(m.matchIndex != nil); if let matchIndex = m.matchIndex { writer.write(matchIndex) }; writer.write(m.round)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0:
            self = .requestVote(VoteRequest(term: try reader.readUInt64(), lastLogIndex: try reader.readNonNegativeInt("last log index"),
                                            lastLogTerm: try reader.readUInt64(), preVote: try reader.readBool()))
        case 1:
            self = .voteReply(VoteReply(term: try reader.readUInt64(), granted: try reader.readBool(), preVote: try reader.readBool()))
        case 2:
            let term = try reader.readUInt64()
            let prevLogIndex = try reader.readNonNegativeInt("previous log index")
            let prevLogTerm = try reader.readUInt64()
            let leaderCommit = try reader.readNonNegativeInt("leader commit")
            let round = try reader.readUInt64()
            let entries = try reader.readArray(of: RaftEntry.self, minimumElementSize: RaftEntry.minimumByteCount)
            self = .appendEntries(AppendEntries(term: term, prevLogIndex: prevLogIndex, prevLogTerm: prevLogTerm, entries: entries,
                                                leaderCommit: leaderCommit, round: round))
        case 3:
            self = .appendReply(AppendReply(term: try reader.readUInt64(), success: try reader.readBool(), index: try reader.readNonNegativeInt("index"),
                                            hintIndex: try reader.readNonNegativeInt("hint index"), hintTerm: try reader.readUInt64(),
                                            round: try reader.readUInt64()))
        case 4:
            self = .heartbeat(Heartbeat(term: try reader.readUInt64(), commit: try reader.readNonNegativeInt("commit index"), round: try reader.readUInt64()))
        case 5:
            self = .heartbeatReply(HeartbeatReply(term: try reader.readUInt64(), round: try reader.readUInt64()))
        case 6:
            let term = try reader.readUInt64()
            let round = try reader.readUInt64()
            self = .installSnapshot(InstallSnapshot(term: term, chunk: try reader.read(SnapshotChunk.self), round: round))
        case 7:
            let term = try reader.readUInt64()
            let lastIndex = try reader.readNonNegativeInt("snapshot index")
            let bytesStored = try reader.readNonNegativeInt("bytes stored")
            let matchIndex = try reader.readBool() ? try reader.readNonNegativeInt("match index") : nil
            self = .snapshotReply(SnapshotReply(term: term, lastIndex: lastIndex, bytesStored: bytesStored, matchIndex: matchIndex,
                                                round: try reader.readUInt64()))
        default:
            throw .invalid("Raft message tag", offset: start)
        }
    }

    /// The encoded length, computed without encoding.
    public var byteCount: Int {
        switch self {
        case .requestVote: 26
        case .voteReply: 11
        case .appendEntries(let m): 41 + WireSize.array(m.entries)
        case .appendReply: 42
        case .heartbeat: 25
        case .heartbeatReply: 17
        case .installSnapshot(let m): 17 + m.chunk.byteCount
        case .snapshotReply(let m): m.matchIndex == nil ? 34 : 42
        }
    }
}

/// RequestVote (§5.2), or its PreVote form (thesis §9.6): "would you vote for me in `term`?",
/// asked without the candidate incrementing its own term.
public struct VoteRequest: Hashable, Sendable {
    public var term: Term
    public var lastLogIndex: LogIndex
    public var lastLogTerm: Term
    public var preVote: Bool

    public init(term: Term, lastLogIndex: LogIndex, lastLogTerm: Term, preVote: Bool) {
        self.term = term
        self.lastLogIndex = lastLogIndex
        self.lastLogTerm = lastLogTerm
        self.preVote = preVote
    }
}

public struct VoteReply: Hashable, Sendable {
    /// The voter's term; for a granted pre-vote, the term asked about.
    public var term: Term
    public var granted: Bool
    public var preVote: Bool

    public init(term: Term, granted: Bool, preVote: Bool) {
        self.term = term
        self.granted = granted
        self.preVote = preVote
    }
}

/// AppendEntries (§5.3).
public struct AppendEntries: Hashable, Sendable {
    public var term: Term
    public var prevLogIndex: LogIndex
    public var prevLogTerm: Term
    public var entries: [RaftEntry]
    public var leaderCommit: LogIndex
    public var round: UInt64

    public init(term: Term, prevLogIndex: LogIndex, prevLogTerm: Term, entries: [RaftEntry], leaderCommit: LogIndex, round: UInt64) {
        self.term = term
        self.prevLogIndex = prevLogIndex
        self.prevLogTerm = prevLogTerm
        self.entries = entries
        self.leaderCommit = leaderCommit
        self.round = round
    }
}

public struct AppendReply: Hashable, Sendable {
    public var term: Term
    public var success: Bool
    /// On success, the last index known to match the leader's log; on rejection, the
    /// `prevLogIndex` that was rejected (so the leader can recognise stale rejections).
    public var index: LogIndex
    /// On rejection, where the follower's log can next agree with the leader's, and that entry's
    /// term: the conflict hint for fast back-off.
    public var hintIndex: LogIndex
    public var hintTerm: Term
    public var round: UInt64

    public init(term: Term, success: Bool, index: LogIndex, hintIndex: LogIndex, hintTerm: Term, round: UInt64) {
        self.term = term
        self.success = success
        self.index = index
        self.hintIndex = hintIndex
        self.hintTerm = hintTerm
        self.round = round
    }
}

public struct Heartbeat: Hashable, Sendable {
    public var term: Term
    /// The leader's commit index capped at what it knows this follower holds, so the follower can
    /// adopt it without a consistency check.
    public var commit: LogIndex
    public var round: UInt64

    public init(term: Term, commit: LogIndex, round: UInt64) {
        self.term = term
        self.commit = commit
        self.round = round
    }
}

public struct HeartbeatReply: Hashable, Sendable {
    public var term: Term
    public var round: UInt64

    public init(term: Term, round: UInt64) {
        self.term = term
        self.round = round
    }
}

/// InstallSnapshot (§7, Figure 13): one chunk of the leader's latest snapshot, at most
/// `snapshotChunk` bytes of it. The leader's id is the sender.
public struct InstallSnapshot: Hashable, Sendable {
    public var term: Term
    public var chunk: SnapshotChunk
    public var round: UInt64

    public init(term: Term, chunk: SnapshotChunk, round: UInt64) {
        self.term = term
        self.chunk = chunk
        self.round = round
    }
}

/// The answer to one InstallSnapshot chunk. Figure 13's reply carries only the term; the leader
/// also needs to know where the follower stands, so that a lost, duplicated or reordered chunk
/// costs a resend rather than the whole transfer (as LogCabin's `bytes_stored`).
public struct SnapshotReply: Hashable, Sendable {
    public var term: Term
    /// The snapshot the reply is about (its last included index).
    public var lastIndex: LogIndex
    /// While the transfer goes on: how many bytes of that snapshot the follower holds in order —
    /// where the next chunk must start.
    public var bytesStored: Int
    /// Once the follower holds everything the snapshot covers (it installed it, or had already
    /// committed that far): the last index it holds in agreement with the leader. `nil` while it
    /// waits for more chunks.
    public var matchIndex: LogIndex?
    public var round: UInt64

    public init(term: Term, lastIndex: LogIndex, bytesStored: Int, matchIndex: LogIndex?, round: UInt64) {
        self.term = term
        self.lastIndex = lastIndex
        self.bytesStored = bytesStored
        self.matchIndex = matchIndex
        self.round = round
    }
}
