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
    public func beats(_ other: Vote) -> Bool {
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
}

/// What a leader sends a follower to make its history equal to the leader's (DIFF, TRUNC, SNAP).
public struct SyncPayload: Sendable {
    public var connection: UInt64
    public var epoch: Epoch
    public var mode: SyncMode
    /// TRUNC: drop everything after this zxid.
    public var truncateTo: Zxid?
    /// SNAP: the leader's applied state.
    public var snapshot: Snapshot?
    /// The proposals that follow (DIFF), starting at log index `firstIndex`.
    public var firstIndex: LogIndex
    public var proposals: [Transaction]

    var byteCount: Int { 32 + (snapshot?.data.count ?? 0) + proposals.reduce(0) { $0 + $1.byteCount } }
}

/// ZAB's messages, named as ZooKeeper's packets (the paper's names in the comments).
public enum ZabMessage: WireMessage {
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
    /// DIFF, TRUNC (+DIFF) or SNAP.
    case sync(SyncPayload)
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

    public var byteCount: Int {
        switch self {
        case .notification: 40
        case .followerInfo, .leaderInfo, .newLeader, .ackNewLeader, .upToDate, .ack, .commit, .ping, .pingReply: 28
        case .ackEpoch(_, _, _, let history): 28 + history.byteCount
        case .sync(let payload): payload.byteCount
        case .proposal(_, _, let transactions): 20 + transactions.reduce(0) { $0 + $1.byteCount }
        case .request(let request): request.byteCount
        case .syncRequest, .syncReply: 32
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
        case .ackEpoch(_, let epoch, _, _), .ackNewLeader(_, let epoch, _), .ack(let epoch, _, _), .pingReply(let epoch, _, _, _),
             .syncRequest(let epoch, _, _):
            epoch
        case .notification, .followerInfo, .request: nil
        }
    }
}
