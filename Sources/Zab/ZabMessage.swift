import ConsensusCore

/// A Fast Leader Election vote: the server a node wants as leader, with that server's last zxid and
/// current epoch as the voter knows them.
public struct Vote: Hashable, Sendable, CustomStringConvertible {
    public var leader: NodeID
    public var zxid: Zxid
    /// The candidate's current epoch (ZooKeeper's `peerEpoch`).
    public var epoch: Epoch

    public init(leader: NodeID, zxid: Zxid, epoch: Epoch) {
        self.leader = leader
        self.zxid = zxid
        self.epoch = epoch
    }

    /// ZooKeeper's `totalOrderPredicate`: a vote wins by higher epoch, then higher zxid, then higher
    /// server id — the candidate most likely to hold every committed transaction, ties broken by id.
    package func beats(_ other: Vote) -> Bool {
        (epoch, zxid.rawValue, leader.rawValue) > (other.epoch, other.zxid.rawValue, other.leader.rawValue)
    }

    public var description: String { "\(leader) (epoch \(epoch), zxid \(zxid))" }
}

/// A server's state as Fast Leader Election reports it.
public enum ServerState: String, Hashable, Sendable {
    case looking = "LOOKING"
    case following = "FOLLOWING"
    case leading = "LEADING"
}

/// What a node tells its peers during (or about) an election.
public struct Notification: Hashable, Sendable {
    public var vote: Vote
    /// The election round (ZooKeeper's `logicalclock` / `electionEpoch`).
    public var round: UInt64
    public var state: ServerState

    public init(vote: Vote, round: UInt64, state: ServerState) {
        self.vote = vote
        self.round = round
        self.state = state
    }
}

/// What a leader sends a follower to make its history equal to the leader's (DIFF, TRUNC, SNAP).
///
/// A SNAP whose state is larger than `snapshotChunk` bytes takes several of these, one chunk each,
/// and the proposals ride with the last chunk: see `Zab.sendSnap`.
public struct SyncPayload: Hashable, Sendable {
    public var connection: UInt64
    public var epoch: Epoch
    public var mode: SyncMode
    /// TRUNC: drop everything after this zxid.
    public var truncateTo: Zxid?
    /// SNAP: one chunk of the leader's applied state.
    public var snapshot: SnapshotChunk?
    /// The proposals that follow (DIFF), starting at log index `firstIndex`.
    public var firstIndex: LogIndex
    public var proposals: [Transaction]

    public init(connection: UInt64, epoch: Epoch, mode: SyncMode, truncateTo: Zxid?, snapshot: SnapshotChunk?, firstIndex: LogIndex,
                proposals: [Transaction]) {
        self.connection = connection
        self.epoch = epoch
        self.mode = mode
        self.truncateTo = truncateTo
        self.snapshot = snapshot
        self.firstIndex = firstIndex
        self.proposals = proposals
    }
}

/// ZAB's messages, named as ZooKeeper's packets (the paper's names in the comments).
public enum ZabMessage: WireMessage, Hashable {
    /// Fast Leader Election.
    case notification(Notification)
    /// CEPOCH: a follower's accepted epoch. `connection` names the follower's connection: the
    /// handshake messages carry it so that a leader ignores those of an earlier connection.
    case followerInfo(connection: UInt64, acceptedEpoch: Epoch, lastZxid: Zxid)
    /// NEWEPOCH(e).
    case leaderInfo(epoch: Epoch)
    /// ACK-E: the follower's current epoch (`nil` when it had already accepted `epoch`, so this
    /// acknowledgement must not count: ZooKeeper's -1) and its history.
    case ackEpoch(connection: UInt64, epoch: Epoch, currentEpoch: Epoch?, history: HistorySummary)
    /// DIFF, TRUNC (+DIFF) or SNAP (or one chunk of a SNAP).
    case sync(SyncPayload)
    /// A follower's answer to a SNAP chunk that is not the last: it holds `bytesStored` bytes of the
    /// state at `snapshotIndex` in order, and the next chunk must start there. ZooKeeper has no such
    /// packet: TCP acknowledges its stream.
    case snapAck(connection: UInt64, epoch: Epoch, snapshotIndex: LogIndex, bytesStored: Int)
    /// NEWLEADER(e): the follower's history now ends at `lastZxid`; accept it as epoch e's.
    case newLeader(connection: UInt64, epoch: Epoch, lastZxid: Zxid)
    /// ACK of NEWLEADER: the follower's history now ends at `lastZxid`.
    case ackNewLeader(connection: UInt64, epoch: Epoch, lastZxid: Zxid)
    /// UPTODATE: a quorum accepted the history; everything up to `committed` is committed.
    case upToDate(epoch: Epoch, committed: Zxid)
    /// PROPOSAL of `transactions` (consecutive), the first following `previous` in the leader's log.
    case proposal(epoch: Epoch, previous: Zxid, transactions: [Transaction])
    /// ACK: everything up to `zxid` is logged. `gap`: a proposal arrived out of order.
    case ack(epoch: Epoch, zxid: Zxid, gap: Bool)
    /// COMMIT of everything up to `zxid`.
    case commit(epoch: Epoch, zxid: Zxid)
    /// The leader's heartbeat; `round` lets `sync` confirm the leader still leads a quorum.
    case ping(epoch: Epoch, round: UInt64, committed: Zxid)
    /// A follower's answer to PING.
    case pingReply(epoch: Epoch, round: UInt64, lastZxid: Zxid, upToDate: Bool)
    /// A write a follower forwards to its leader.
    case request(ClientRequest)
    /// A follower's `sync` for a client's read.
    case syncRequest(epoch: Epoch, client: ClientID, sequence: UInt64)
    /// The leader's answer: read once everything up to `zxid` is applied.
    case syncReply(epoch: Epoch, client: ClientID, sequence: UInt64, zxid: Zxid)

    public enum Kind: String, CaseIterable, Sendable {
        case notification = "NOTIFICATION"
        case followerInfo = "FOLLOWERINFO"
        case leaderInfo = "LEADERINFO"
        case ackEpoch = "ACKEPOCH"
        case diff = "DIFF"
        case trunc = "TRUNC"
        case snap = "SNAP"
        case newLeader = "NEWLEADER"
        case upToDate = "UPTODATE"
        case proposal = "PROPOSAL"
        case ack = "ACK"
        case commit = "COMMIT"
        case ping = "PING"
        case request = "REQUEST"
        case sync = "SYNC"
    }

    public var kind: Kind {
        switch self {
        case .notification: .notification
        case .followerInfo: .followerInfo
        case .leaderInfo: .leaderInfo
        case .ackEpoch: .ackEpoch
        case .sync(let payload):
            switch payload.mode {
            case .diff: .diff
            case .trunc, .truncDiff: .trunc
            case .snap: .snap
            }
        case .snapAck: .snap
        case .newLeader: .newLeader
        case .ackNewLeader, .ack: .ack
        case .upToDate: .upToDate
        case .proposal: .proposal
        case .commit: .commit
        case .ping, .pingReply: .ping
        case .request: .request
        case .syncRequest, .syncReply: .sync
        }
    }
}

extension ZabMessage {
    /// The epoch a message of an established connection belongs to (`nil` for election and
    /// FOLLOWERINFO, sent before there is one, and for forwarded requests).
    var epoch: Epoch? {
        switch self {
        case .leaderInfo(let epoch), .newLeader(_, let epoch, _), .upToDate(let epoch, _), .proposal(let epoch, _, _),
             .commit(let epoch, _), .ping(let epoch, _, _), .syncReply(let epoch, _, _, _):
            epoch
        case .sync(let payload): payload.epoch
        case .ackEpoch(_, let epoch, _, _), .snapAck(_, let epoch, _, _), .ackNewLeader(_, let epoch, _), .ack(let epoch, _, _),
             .pingReply(let epoch, _, _, _), .syncRequest(let epoch, _, _):
            epoch
        case .notification, .followerInfo, .request: nil
        }
    }
}

// MARK: Wire encoding

/// The wire encoding: a tag byte naming the case, then the fields in declaration order. Zxids and
/// epochs are u64, node and client ids i64, optionals a presence byte and the value.
///
///      0 notification   leader i64, zxid u64, peer epoch u64, round u64, state u8 (0 LOOKING,
///                       1 FOLLOWING, 2 LEADING)
///      1 followerInfo   connection, acceptedEpoch, lastZxid
///      2 leaderInfo     epoch
///      3 ackEpoch       connection, epoch, currentEpoch u64?, history (`HistorySummary`)
///      4 sync           connection, epoch, mode u8 (0 DIFF, 1 TRUNC, 2 TRUNC+DIFF, 3 SNAP),
///                       truncateTo u64?, snapshot `SnapshotChunk`?, firstIndex i64 (≥ 0),
///                       proposals (u32 count, then each `Transaction`)
///      5 newLeader      connection, epoch, lastZxid
///      6 ackNewLeader   connection, epoch, lastZxid
///      7 upToDate       epoch, committed
///      8 proposal       epoch, previous, transactions (u32 count, then each `Transaction`)
///      9 ack            epoch, zxid, gap bool
///     10 commit         epoch, zxid
///     11 ping           epoch, round, committed
///     12 pingReply      epoch, round, lastZxid, upToDate bool
///     13 request        `ClientRequest`
///     14 syncRequest    epoch, client i64, sequence u64
///     15 syncReply      epoch, client i64, sequence u64, zxid
///     16 snapAck        connection, epoch, snapshotIndex i64 (≥ 0), bytesStored i64 (≥ 0)
extension ZabMessage {
    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .notification(let n):
            writer.write(0 as UInt8); writer.write(n.vote.leader); writer.write(n.vote.zxid); writer.write(n.vote.epoch)
            writer.write(n.round); writer.write(tag: n.state)
        case .followerInfo(let connection, let acceptedEpoch, let lastZxid):
            writer.write(1 as UInt8); writer.write(connection); writer.write(acceptedEpoch); writer.write(lastZxid)
        case .leaderInfo(let epoch):
            writer.write(2 as UInt8); writer.write(epoch)
        case .ackEpoch(let connection, let epoch, let currentEpoch, let history):
            writer.write(3 as UInt8); writer.write(connection); writer.write(epoch); writer.write(currentEpoch); writer.write(history)
        case .sync(let p):
            writer.write(4 as UInt8); writer.write(p.connection); writer.write(p.epoch); writer.write(tag: p.mode)
            writer.write(p.truncateTo?.rawValue); writer.write(p.snapshot); writer.write(p.firstIndex); writer.write(p.proposals)
        case .newLeader(let connection, let epoch, let lastZxid):
            writer.write(5 as UInt8); writer.write(connection); writer.write(epoch); writer.write(lastZxid)
        case .ackNewLeader(let connection, let epoch, let lastZxid):
            writer.write(6 as UInt8); writer.write(connection); writer.write(epoch); writer.write(lastZxid)
        case .upToDate(let epoch, let committed):
            writer.write(7 as UInt8); writer.write(epoch); writer.write(committed)
        case .proposal(let epoch, let previous, let transactions):
            writer.write(8 as UInt8); writer.write(epoch); writer.write(previous); writer.write(transactions)
        case .ack(let epoch, let zxid, let gap):
            writer.write(9 as UInt8); writer.write(epoch); writer.write(zxid); writer.write(gap)
        case .commit(let epoch, let zxid):
            writer.write(10 as UInt8); writer.write(epoch); writer.write(zxid)
        case .ping(let epoch, let round, let committed):
            writer.write(11 as UInt8); writer.write(epoch); writer.write(round); writer.write(committed)
        case .pingReply(let epoch, let round, let lastZxid, let upToDate):
            writer.write(12 as UInt8); writer.write(epoch); writer.write(round); writer.write(lastZxid); writer.write(upToDate)
        case .request(let request):
            writer.write(13 as UInt8); writer.write(request)
        case .syncRequest(let epoch, let client, let sequence):
            writer.write(14 as UInt8); writer.write(epoch); writer.write(client.rawValue); writer.write(sequence)
        case .syncReply(let epoch, let client, let sequence, let zxid):
            writer.write(15 as UInt8); writer.write(epoch); writer.write(client.rawValue); writer.write(sequence); writer.write(zxid)
        case .snapAck(let connection, let epoch, let snapshotIndex, let bytesStored):
            writer.write(16 as UInt8); writer.write(connection); writer.write(epoch); writer.write(snapshotIndex); writer.write(bytesStored)
        }
    }

    public init(from reader: inout ByteReader) throws(BinaryDecodingError) {
        let start = reader.offset
        switch try reader.readByte() {
        case 0:
            let vote = Vote(leader: try reader.readNodeID(), zxid: try reader.readZxid(), epoch: try reader.readUInt64())
            self = .notification(Notification(vote: vote, round: try reader.readUInt64(), state: try reader.readTag(ServerState.self, "server state")))
        case 1: self = .followerInfo(connection: try reader.readUInt64(), acceptedEpoch: try reader.readUInt64(), lastZxid: try reader.readZxid())
        case 2: self = .leaderInfo(epoch: try reader.readUInt64())
        case 3:
            self = .ackEpoch(connection: try reader.readUInt64(), epoch: try reader.readUInt64(), currentEpoch: try reader.readOptionalUInt64(),
                             history: try reader.read(HistorySummary.self))
        case 4:
            let connection = try reader.readUInt64()
            let epoch = try reader.readUInt64()
            let mode = try reader.readTag(SyncMode.self, "sync mode")
            let truncateTo = try reader.readOptionalUInt64().map(Zxid.init(rawValue:))
            let snapshot = try reader.readOptional(SnapshotChunk.self)
            let firstIndex = try reader.readNonNegativeInt("first index")
            let proposals = try reader.readArray(of: Transaction.self, minimumElementSize: Transaction.minimumByteCount)
            self = .sync(SyncPayload(connection: connection, epoch: epoch, mode: mode, truncateTo: truncateTo, snapshot: snapshot,
                                     firstIndex: firstIndex, proposals: proposals))
        case 5: self = .newLeader(connection: try reader.readUInt64(), epoch: try reader.readUInt64(), lastZxid: try reader.readZxid())
        case 6: self = .ackNewLeader(connection: try reader.readUInt64(), epoch: try reader.readUInt64(), lastZxid: try reader.readZxid())
        case 7: self = .upToDate(epoch: try reader.readUInt64(), committed: try reader.readZxid())
        case 8:
            self = .proposal(epoch: try reader.readUInt64(), previous: try reader.readZxid(),
                             transactions: try reader.readArray(of: Transaction.self, minimumElementSize: Transaction.minimumByteCount))
        case 9: self = .ack(epoch: try reader.readUInt64(), zxid: try reader.readZxid(), gap: try reader.readBool())
        case 10: self = .commit(epoch: try reader.readUInt64(), zxid: try reader.readZxid())
        case 11: self = .ping(epoch: try reader.readUInt64(), round: try reader.readUInt64(), committed: try reader.readZxid())
        case 12:
            self = .pingReply(epoch: try reader.readUInt64(), round: try reader.readUInt64(), lastZxid: try reader.readZxid(),
                              upToDate: try reader.readBool())
        case 13: self = .request(try reader.read(ClientRequest.self))
        case 14: self = .syncRequest(epoch: try reader.readUInt64(), client: ClientID(try reader.readInt()), sequence: try reader.readUInt64())
        case 15:
            self = .syncReply(epoch: try reader.readUInt64(), client: ClientID(try reader.readInt()), sequence: try reader.readUInt64(),
                              zxid: try reader.readZxid())
        case 16:
            self = .snapAck(connection: try reader.readUInt64(), epoch: try reader.readUInt64(),
                            snapshotIndex: try reader.readNonNegativeInt("snapshot index"), bytesStored: try reader.readNonNegativeInt("bytes stored"))
        default:
            throw .invalid("ZAB message tag", offset: start)
        }
    }

    /// The encoded length, computed without encoding.
    public var byteCount: Int {
        switch self {
        case .notification: 34
        case .followerInfo, .newLeader, .ackNewLeader, .ping, .syncRequest: 25
        case .leaderInfo: 9
        case .ackEpoch(_, _, let currentEpoch, let history): 17 + (currentEpoch == nil ? 1 : 9) + history.byteCount
        case .sync(let p):
            18 + (p.truncateTo == nil ? 1 : 9) + (p.snapshot.map { 1 + $0.byteCount } ?? 1) + 8 + WireSize.array(p.proposals)
        case .upToDate, .commit: 17
        case .proposal(_, _, let transactions): 17 + WireSize.array(transactions)
        case .ack: 18
        case .pingReply: 26
        case .request(let request): 1 + request.byteCount
        case .syncReply, .snapAck: 33
        }
    }
}

extension ServerState: WireTagged {
    public static let wireCases: [ServerState] = [.looking, .following, .leading]
}

extension SyncMode: WireTagged {
    public static let wireCases: [SyncMode] = [.diff, .trunc, .truncDiff, .snap]
}

extension ByteWriter {
    mutating func write(_ zxid: Zxid) { write(zxid.rawValue) }
}

extension ByteReader {
    mutating func readZxid() throws(BinaryDecodingError) -> Zxid { Zxid(rawValue: try readUInt64()) }
}
