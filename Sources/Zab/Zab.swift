import ConsensusCore
import KVStore

/// ZooKeeper's atomic broadcast (Junqueira, Reed & Serafini, "Zab: High-performance broadcast for
/// primary-backup systems", DSN 2011), as ZooKeeper implements it, as a pure state machine.
///
/// A node is LOOKING, FOLLOWING or LEADING. The message flows, phase by phase:
///
/// ```
/// election       NOTIFICATION(vote, round, state) among all; a quorum agrees → finalizeWait → decide
/// discovery      follower → FOLLOWERINFO(acceptedEpoch)            (the paper's CEPOCH)
///                leader, with a quorum: e = max(accepted) + 1 → LEADERINFO(e)   (NEWEPOCH)
///                follower, if e > acceptedEpoch → ACKEPOCH(currentEpoch, history) (ACK-E)
/// sync           leader, with a quorum of ACKEPOCH: DIFF | TRUNC | TRUNC+DIFF | SNAP, then NEWLEADER(e)
///                follower applies it, currentEpoch = e → ACK; a quorum of ACKs → the leader's history
///                is committed → UPTODATE(committed) to each synced follower
/// broadcast      client → its node → REQUEST → leader → PROPOSAL(zxid) → ACK (after the log write)
///                → COMMIT once a quorum logged it → the client's node answers its client
/// liveness       PING every tickTime/2 ↔ PING; syncLimit ticks of silence → LOOKING (both sides)
/// reads          local: answered at once; sync: SYNC → leader (commit + a quorum PING round) → SYNC
///                → answered once applied up to the leader's zxid
/// ```
///
/// ZooKeeper runs ZAB over TCP; the lab's network loses, duplicates and reorders messages. So
/// every phase re-sends what is unanswered, followers log proposals only in zxid order (an ACK
/// flagged `gap` asks for the rest), COMMIT and PING carry the leader's commit point, and the
/// handshake messages name the follower's connection: the messages are ZooKeeper's, the delivery
/// guarantees of a TCP connection are rebuilt on top.
public struct Zab: ReplicationBackend {
    public static let protocolName = "zab"
    public typealias Message = ZabMessage
    public typealias Entry = Transaction
    public typealias HardState = EpochState
    public typealias Options = ZabOptions

    let id: NodeID
    let cluster: [NodeID]
    let options: ZabOptions
    let quorum: Int
    var random: DeterministicRandom

    /// LOOKING, FOLLOWING or LEADING: the role's name, as the node tells its peers.
    package var state: ServerState { role.state }
    var role = ZabRole.starting
    package internal(set) var acceptedEpoch: Epoch = 0
    package internal(set) var currentEpoch: Epoch = 0
    package internal(set) var log: TransactionLog
    package internal(set) var store: KVStore
    /// Every transaction up to here is committed and applied to `store`, in zxid order.
    package internal(set) var appliedIndex: LogIndex
    package internal(set) var appliedZxid: Zxid
    var snapshotIndex: LogIndex
    var snapshotZxid: Zxid
    var loggedSinceSnapshot = 0
    var snapshotThreshold = 0

    /// ZooKeeper's `logicalclock`: the last election round this node took part in.
    var electionRound: UInt64 = 0
    /// The vote this node was elected with or followed, told to LOOKING nodes.
    package internal(set) var vote: Vote
    var voteRound: UInt64 = 0

    /// Writes of this node's clients awaiting commit (several per client at once).
    var pendingWrites = OutstandingRequests()
    /// `sync` reads of this node's clients, answered once `appliedZxid` reaches their zxid.
    var pendingReads: [PendingRead] = []
    /// Protocol states that must never occur; tests assert it stays empty.
    package internal(set) var violations: [SafetyViolation] = []

    public init(id: NodeID, cluster: [NodeID], options: ZabOptions, recovered: RecoveredState<Transaction, EpochState>, seed: UInt64) {
        self.id = id
        self.cluster = cluster
        self.options = options
        quorum = cluster.count / 2 + 1
        random = DeterministicRandom(seed: seed, label: "zab")
        store = KVStore(sessions: options.sessions)
        if let epochs = recovered.hardState {
            acceptedEpoch = epochs.acceptedEpoch
            currentEpoch = epochs.currentEpoch
        }
        snapshotIndex = recovered.firstIndex - 1
        snapshotZxid = .zero
        if let snapshot = recovered.snapshot {
            snapshotZxid = Zxid(rawValue: snapshot.lastTerm)
            do { store = try KVStore(snapshot: snapshot.data, sessions: options.sessions) } catch {
                violations.append(SafetyViolation(.inconsistentSync, "snapshot at index \(snapshot.lastIndex) does not decode: \(error)"))
            }
        }
        log = TransactionLog(baseIndex: snapshotIndex, baseZxid: snapshotZxid)
        for entry in recovered.entries { log.append(entry) }
        appliedIndex = snapshotIndex
        appliedZxid = snapshotZxid
        vote = Vote(leader: id, zxid: log.lastZxid, epoch: currentEpoch)
        snapshotThreshold = drawSnapshotThreshold()
    }

    // MARK: Inspection

    /// The established leader of `currentEpoch`: its history was accepted by a quorum.
    package var isEstablishedLeader: Bool {
        if case .leading(let session) = role { session.phase == .broadcasting } else { false }
    }

    /// Whether a leader takes writes and proposes them: only once established (Zab §III: phase 3,
    /// broadcast, begins after a quorum accepted the new leader's history in phase 2). Planted bug
    /// `broadcast-before-sync` begins as soon as its epoch is acknowledged, while followers are
    /// still synchronising: the quorum that then accepts NEWLEADER accepted a history without those
    /// proposals, yet establishing the epoch commits the leader's whole log, them included.
    func proposes(in session: LeaderSession) -> Bool {
        session.phase == .broadcasting || (options.bug == .broadcastBeforeSync && session.phase == .newLeaderAck)
    }

    /// Whether the node answers clients: an established leader, or a follower past UPTODATE.
    package var isServing: Bool {
        switch role {
        case .leading(let session): proposes(in: session)
        case .following(let session): session.phase == .broadcasting
        case .starting, .looking, .modifying: false
        }
    }

    /// The leader this node follows or is (nil while LOOKING).
    package var leaderID: NodeID? {
        switch role {
        case .leading: id
        case .following(let session): session.leader
        case .starting, .looking, .modifying: nil
        }
    }


    /// A node counts as working with its leader only once the epoch is established and it serves:
    /// a follower stuck in discovery or sync is not live.
    public var leadership: Leadership? {
        let labRole: ConsensusCore.Role = switch state {
        case .looking: .candidate
        case .following: .follower
        case .leading: .leader
        }
        return Leadership(role: labRole, term: currentEpoch, leader: isServing ? leaderID : nil)
    }

    public var nextDeadline: Instant? {
        switch role {
        case .starting: .zero
        case .looking(let election): election.nextDeadline
        case .following(let session): session.nextDeadline(options)
        case .leading(let session): session.nextDeadline
        case .modifying: nil
        }
    }

    // MARK: Steps

    public mutating func step(_ input: Input<ZabMessage>, at now: Instant, into out: inout Effects<Zab>) {
        switch input {
        case .tick:
            tick(at: now, into: &out)
        case .receive(let from, let message):
            receive(message, from: from, at: now, into: &out)
        case .client(let request):
            handleClient(request, at: now, into: &out)
        }
    }

    mutating func tick(at now: Instant, into out: inout Effects<Zab>) {
        switch role {
        case .starting:
            lookForLeader(at: now, reason: "started", into: &out)
        case .looking:
            withElection { node, election in node.electionTick(in: &election, at: now, into: &out) }
        case .following:
            withFollowerSession { node, session in node.followerTick(in: &session, at: now, into: &out) }
        case .leading:
            withLeaderSession { node, session in node.leaderTick(in: &session, at: now, into: &out) }
        case .modifying:
            break
        }
    }

    mutating func receive(_ message: ZabMessage, from peer: NodeID, at now: Instant, into out: inout Effects<Zab>) {
        // Ballots and learner handlers are indexed by node: a message from outside the cluster is dropped.
        guard cluster.contains(peer) else { return }
        if case .starting = role { return }
        switch message {
        case .notification(let notification):
            receiveNotification(notification, from: peer, at: now, into: &out)
        case .followerInfo, .ackEpoch, .snapAck, .ackNewLeader, .ack, .pingReply, .request, .syncRequest:
            withLeaderSession { node, session in node.leaderReceive(message, from: peer, in: &session, at: now, into: &out) }
        case .leaderInfo, .sync, .newLeader, .upToDate, .proposal, .commit, .ping, .syncReply:
            withFollowerSession { node, session in
                guard session.leader == peer else { return }
                node.followerReceive(message, in: &session, at: now, into: &out)
            }
        }
    }

    // MARK: Role state

    /// Runs `body` on the LEADING node's session, modified in place; does nothing in another role.
    /// The session is taken out of `role` while `body` runs, so that the learners and the other
    /// collections it holds are not copied on write, and put back unless `body` left the role.
    mutating func withLeaderSession(_ body: (inout Zab, inout LeaderSession) -> Void) {
        guard case .leading(var session) = role else { return }
        role = .modifying
        body(&self, &session)
        if case .modifying = role { role = .leading(session) }
    }

    /// `withLeaderSession` for a FOLLOWING node's connection to its leader.
    mutating func withFollowerSession(_ body: (inout Zab, inout FollowerSession) -> Void) {
        guard case .following(var session) = role else { return }
        role = .modifying
        body(&self, &session)
        if case .modifying = role { role = .following(session) }
    }

    /// `withLeaderSession` for a LOOKING node's ballot.
    mutating func withElection(_ body: (inout Zab, inout FastLeaderElection) -> Void) {
        guard case .looking(var election) = role else { return }
        role = .modifying
        body(&self, &election)
        if case .modifying = role { role = .looking(election) }
    }

    // MARK: Shared machinery

    /// Makes the epochs durable before anything that depends on them leaves the node.
    mutating func persistEpochs(into out: inout Effects<Zab>) {
        out.persist(.hardState(EpochState(acceptedEpoch: acceptedEpoch, currentEpoch: currentEpoch)))
    }

    /// Logs transactions after the current end of the log (durable before any ACK leaves).
    mutating func append(_ transactions: [Transaction], into out: inout Effects<Zab>) {
        guard !transactions.isEmpty else { return }
        out.persist(.append(firstIndex: log.lastIndex + 1, entries: transactions))
        for transaction in transactions { log.append(transaction) }
        loggedSinceSnapshot += transactions.count
    }

    /// Drops the transactions after `index` from the log and from storage (TRUNC).
    mutating func truncate(after index: LogIndex, into out: inout Effects<Zab>) {
        guard index < log.lastIndex else { return }
        guard index >= appliedIndex else {
            violate(.committedEntryOverwritten, "asked to truncate after index \(index), below the applied index \(appliedIndex)", into: &out)
            return
        }
        out.persist(.truncate(from: index + 1))
        log.truncate(after: index)
    }

    /// Delivers committed transactions in zxid order: applies them, each at its leader's stamp, and
    /// answers the clients waiting here.
    mutating func commit(through index: LogIndex, into out: inout Effects<Zab>) {
        let target = min(index, log.lastIndex)
        guard target > appliedIndex else { return }
        // `!` (twice): the log keeps in memory every transaction after `appliedIndex`
        // (`forgetOldTransactions`), and `target` is at most its last index.
        for position in (appliedIndex + 1)...target {
            let transaction = log.transaction(at: position)!
            let status = store.apply(transaction.request, at: transaction.stamp)
            if pendingWrites.remove(transaction.request) { out.reply(ClientReply(to: transaction.request, status)) }
        }
        appliedIndex = target
        appliedZxid = log.zxid(at: target)!
        out.emit(.committed(target))
        servePendingReads(into: &out)
        snapshotIfDue(into: &out)
    }

    /// Commits everything up to `zxid` that this node holds.
    mutating func commit(throughZxid zxid: Zxid, into out: inout Effects<Zab>) {
        commit(through: log.lastIndex(atOrBefore: zxid), into: &out)
    }

    /// ZooKeeper's SyncRequestProcessor: after snapCount/2 + a random share of snapCount/2 logged
    /// transactions, snapshot the applied state (the random share keeps replicas from all
    /// snapshotting at once).
    mutating func snapshotIfDue(into out: inout Effects<Zab>) {
        guard loggedSinceSnapshot >= snapshotThreshold, appliedIndex > snapshotIndex else { return }
        out.persist(.snapshot(Snapshot(lastIndex: appliedIndex, lastTerm: appliedZxid.rawValue, data: store.snapshot())))
        snapshotIndex = appliedIndex
        snapshotZxid = appliedZxid
        loggedSinceSnapshot = 0
        snapshotThreshold = drawSnapshotThreshold()
        forgetOldTransactions()
        out.emit(.note(kind: "snapshot", detail: "at \(appliedZxid) (index \(appliedIndex)); next after \(snapshotThreshold) transactions"))
    }

    /// Keeps `commitLogCount` committed transactions in memory for DIFF; older ones live only in
    /// the snapshot.
    mutating func forgetOldTransactions() {
        let keepAfter = min(snapshotIndex, appliedIndex - options.commitLogCount)
        if keepAfter >= log.firstIndex { log.forget(through: keepAfter) }
    }

    mutating func drawSnapshotThreshold() -> Int {
        options.snapCount / 2 + random.index(below: max(options.snapCount / 2, 1))
    }

    /// Records a state that the protocol's invariants exclude, without crashing the run.
    mutating func violate(_ rule: SafetyRule, _ detail: String, into out: inout Effects<Zab>) {
        let violation = SafetyViolation(rule, detail)
        violations.append(violation)
        out.emit(.violation(violation))
    }
}
