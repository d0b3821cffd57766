import ConsensusCore
import KVStore

/// A Raft server's whole state and its transitions; `Raft` wraps it for copy-on-write.
struct RaftState: Sendable {
    let id: NodeID
    /// Every server, sorted; positions in it index `progress` and `grants`.
    let cluster: [NodeID]
    let options: RaftOptions
    let quorum: Int
    let selfSlot: Int
    /// Positions of the other servers in `cluster`.
    let peerSlots: [Int]
    /// Position in `cluster` by raw node id (-1: not a member).
    let slotByID: [Int]
    var random: DeterministicRandom

    // MARK: Persistent state (Figure 2)

    var currentTerm: Term = 0
    var votedFor: NodeID?
    var log: RaftLog
    /// Term or vote changed in this step: persisted before the step's messages leave.
    var hardStateDirty = false

    // MARK: Volatile state

    var role = RaftRole.follower
    /// The leader of `currentTerm` as far as this node knows.
    var leader: NodeID?
    var commitIndex: LogIndex
    var lastApplied: LogIndex
    /// The state machine, as applied through `lastApplied`.
    var store: KVStore
    /// The latest snapshot taken, installed or recovered (what InstallSnapshot sends).
    var snapshot: Snapshot?
    /// A leader's snapshot arriving in chunks, kept in memory until the last one (Figure 13): a
    /// crash loses it, and the leader starts the transfer again.
    var incomingSnapshot = SnapshotAssembly()
    /// Lowest log index the latest step wrote, replaced or discarded (`nil`: the log was not
    /// touched), so that checkers can verify log changes incrementally.
    var lastLogChange: LogIndex?
    /// Applied entries after which this node next snapshots (jittered per node, §7).
    var snapshotTrigger: Int

    // MARK: Timers, in this node's clock

    var timersArmed = false
    var electionDeadline = Instant.zero
    var heartbeatDeadline = Instant.zero
    var quorumCheckDeadline = Instant.zero
    /// When this node last heard from the leader of its term (§4.2.3, thesis §9.6).
    var lastLeaderContact: Instant?
    /// A (re)started node cannot know when it last heard from a leader; where votes must wait
    /// for a minimum election timeout after that (CheckQuorum, leases) it waits from its start.
    var votesBlockedUntil: Instant?

    // MARK: Elections

    /// Votes (or pre-votes) granted in the current campaign, by slot.
    var grants: [Bool]

    // MARK: Leadership

    var progress: [Progress]
    /// Client requests this leader appended and has not yet answered (several per client at once).
    var pendingWrites = OutstandingRequests()
    /// Index of this leader's first entry (its no-op); reads wait until it commits (thesis §6.4).
    var termStart: LogIndex = 0
    var reads = ReadQueue()
    /// Latest read round this leader started; stamped on everything it sends.
    var round: UInt64 = 0
    /// Highest round a majority (this leader included) has acknowledged.
    var quorumRound: UInt64 = 0
    /// Reads wait for a round that has not started yet.
    var roundWanted = false
    /// Start times of rounds not yet acknowledged by a majority (for leases).
    var roundStarts: [(round: UInt64, start: Instant)] = []
    /// Lease reads are served until then (thesis §6.4.1).
    var leaseExpiry = Instant.zero
    /// How far this leader's own log is durable: its own vote in the commit count (etcd raft's
    /// storage append response). Entries leave for followers before they are durable here, so the
    /// leader counts its own copy only once its disk says so — otherwise a crash of the leader could
    /// leave a "committed" entry on a minority.
    var ownDurableIndex: LogIndex = 0
    /// The last AppendEntries batch built (see `batch(from:)`).
    var lastBatch: (term: Term, first: LogIndex, entries: [RaftEntry])?
    /// Reused buffer for majority computations.
    var scratch: [UInt64]

    // MARK: Reporting

    var reportedRole: RaftRole?
    var reportedTerm: Term = 0
    var reportedCommit: LogIndex

    init(id: NodeID, cluster: [NodeID], options: RaftOptions, recovered: RecoveredState<RaftEntry, RaftHardState>, seed: UInt64) {
        self.id = id
        self.cluster = cluster.sorted()
        self.options = options
        quorum = cluster.count / 2 + 1
        var slots = Array(repeating: -1, count: (cluster.map(\.rawValue).max() ?? 0) + 1)
        for (position, node) in self.cluster.enumerated() { slots[node.rawValue] = position }
        slotByID = slots
        selfSlot = slots[id.rawValue]
        precondition(selfSlot >= 0, "raft node \(id) is not a member of its cluster \(cluster)")
        peerSlots = self.cluster.indices.filter { $0 != slots[id.rawValue] }
        random = DeterministicRandom(seed: seed)
        grants = Array(repeating: false, count: cluster.count)
        progress = Array(repeating: Progress(next: 1, maxInflight: options.maxInflight), count: cluster.count)
        scratch = Array(repeating: 0, count: cluster.count)

        // Recovery (§5.1, §7): term, vote, snapshot and log exactly as synced; commit and apply
        // restart from the snapshot and catch up once a leader says what is committed.
        currentTerm = recovered.hardState?.term ?? 0
        votedFor = recovered.hardState?.votedFor
        if let snapshot = recovered.snapshot {
            do { store = try KVStore(snapshot: snapshot.data, sessions: options.sessions) } catch {
                preconditionFailure("raft node \(id): recovered snapshot at \(snapshot.lastIndex) does not decode: \(error)")
            }
            log = RaftLog(snapshotIndex: snapshot.lastIndex, snapshotTerm: snapshot.lastTerm, entries: recovered.entries)
            self.snapshot = snapshot
        } else {
            store = KVStore(sessions: options.sessions)
            log = RaftLog(entries: recovered.entries)
        }
        precondition(recovered.firstIndex == log.snapshotIndex + 1,
                     "raft node \(id): recovered entries start at \(recovered.firstIndex), not after the snapshot at \(log.snapshotIndex)")
        commitIndex = log.snapshotIndex
        lastApplied = log.snapshotIndex
        reportedCommit = commitIndex
        snapshotTrigger = 0  // every stored property is set before the first draw
        snapshotTrigger = drawSnapshotTrigger()
    }

    /// When the node next wants a tick, as of its latest step: stored rather than computed, so a
    /// driver reads it through `Raft`'s box without copying the state.
    private(set) var nextDeadline: Instant? = .zero

    /// A fresh node asks for a tick at once, so it arms its election timer from the time it starts.
    private var armedDeadline: Instant? {
        guard timersArmed else { return .zero }
        guard role == .leader else { return electionDeadline }
        return options.checkQuorum ? min(heartbeatDeadline, quorumCheckDeadline) : heartbeatDeadline
    }

    mutating func step(_ input: Input<RaftMessage>, at now: Instant, into out: inout Effects<Raft>) {
        lastLogChange = nil
        if !timersArmed {
            timersArmed = true
            resetElectionTimer(now)
            if options.leaderStickiness { votesBlockedUntil = now + options.electionTimeout.lowerBound }
        }
        switch input {
        case .tick: tick(now, &out)
        case .receive(let from, let message): receive(message, from: from, now, &out)
        case .client(let request): handle(request, now, &out)
        }
        finishStep(&out)
    }

    mutating func tick(_ now: Instant, _ out: inout Effects<Raft>) {
        guard role == .leader else {
            if now >= electionDeadline { campaign(preVote: options.preVote, now, &out) }
            return
        }
        if options.checkQuorum, now >= quorumCheckDeadline {
            guard checkQuorum(now, &out) else { return }
        }
        if now >= heartbeatDeadline {
            heartbeatDeadline = now + options.heartbeat
            startRound(now, &out)
        }
    }

    /// Term rules every message obeys (Figure 2, "Rules for Servers"), then dispatch.
    mutating func receive(_ message: RaftMessage, from peer: NodeID, _ now: Instant, _ out: inout Effects<Raft>) {
        guard peer != id else { return receiveOwn(message, now, &out) }
        guard peer.rawValue < slotByID.count, slotByID[peer.rawValue] >= 0 else { return }
        let slot = slotByID[peer.rawValue]
        if message.term > currentTerm {
            switch message {
            case .requestVote(let request) where request.preVote:
                break  // A pre-vote never changes the voter's term (thesis §9.6).
            case .requestVote:
                // §4.2.3: a server that heard from a leader within the minimum election timeout
                // ignores the vote request, term included, so a disruptive server cannot depose it.
                if options.leaderStickiness, heardFromLeaderRecently(now) { return }
                becomeFollower(term: message.term, leader: nil, now, &out)
            case .voteReply(let reply) where reply.preVote && reply.granted:
                break  // Carries the term the pre-candidate asked about, not a newer term.
            case .appendEntries, .heartbeat, .installSnapshot:
                becomeFollower(term: message.term, leader: peer, now, &out)
            default:
                becomeFollower(term: message.term, leader: nil, now, &out)
            }
        } else if message.term < currentTerm {
            answerStale(message, from: peer, &out)
            return
        }
        if role == .leader { progress[slot].recentlyActive = true }
        switch message {
        case .requestVote(let request): handleVoteRequest(request, from: peer, now, &out)
        case .voteReply(let reply): handleVoteReply(reply, slot: slot, now, &out)
        case .appendEntries(let request): handleAppendEntries(request, from: peer, now, &out)
        case .appendReply(let reply): handleAppendReply(reply, slot: slot, now, &out)
        case .heartbeat(let request): handleHeartbeat(request, from: peer, now, &out)
        case .heartbeatReply(let reply): handleHeartbeatReply(reply, slot: slot, now, &out)
        case .installSnapshot(let request): handleInstallSnapshot(request, from: peer, now, &out)
        case .snapshotReply(let reply): handleSnapshotReply(reply, slot: slot, now, &out)
        }
    }

    /// The node's acknowledgement of its own write, delivered once the write is durable: a
    /// candidate's vote for itself, a leader's log entries. One from an older term is moot.
    mutating func receiveOwn(_ message: RaftMessage, _ now: Instant, _ out: inout Effects<Raft>) {
        guard message.term == currentTerm else { return }
        switch message {
        case .voteReply(let reply): handleVoteReply(reply, slot: selfSlot, now, &out)
        case .appendReply(let reply) where role == .leader && reply.index > ownDurableIndex:
            ownDurableIndex = reply.index
            maybeCommit(now, &out)
        default: break
        }
    }

    /// A message from an older term: requests get our term back, so a stale leader or candidate
    /// learns it is out of date and steps down; stale replies are dropped.
    func answerStale(_ message: RaftMessage, from peer: NodeID, _ out: inout Effects<Raft>) {
        switch message {
        case .requestVote(let request):
            out.send(.voteReply(VoteReply(term: currentTerm, granted: false, preVote: request.preVote)), to: peer)
        case .appendEntries(let request):
            out.send(.appendReply(AppendReply(term: currentTerm, success: false, index: request.prevLogIndex,
                                              hintIndex: 0, hintTerm: 0, round: request.round)), to: peer)
        case .heartbeat(let request):
            out.send(.heartbeatReply(HeartbeatReply(term: currentTerm, round: request.round)), to: peer)
        case .installSnapshot(let request):
            out.send(.snapshotReply(SnapshotReply(term: currentTerm, lastIndex: request.chunk.lastIndex, bytesStored: 0, matchIndex: nil,
                                                  round: request.round)), to: peer)
        case .voteReply, .appendReply, .heartbeatReply, .snapshotReply:
            break
        }
    }

    /// Becomes a follower of `leader` (nil: unknown) in `term`, which may be the current one.
    ///
    /// Figure 2: only starting an election, granting a vote or hearing from the current leader
    /// restarts the election timer; learning a newer term alone does not (as in LogCabin). Otherwise
    /// every candidate that cannot win — a node with a stale log — would put the others' timers back
    /// in lockstep and make split votes repeat. A deposed leader arms the timer it did not have.
    mutating func becomeFollower(term: Term, leader newLeader: NodeID?, _ now: Instant, _ out: inout Effects<Raft>) {
        let wasLeader = role == .leader
        if wasLeader { abandonLeadership(hint: newLeader, &out) }
        if term > currentTerm {
            currentTerm = term
            votedFor = nil
            hardStateDirty = true
        }
        role = .follower
        leader = newLeader
        if wasLeader { resetElectionTimer(now) }
    }

    mutating func resetElectionTimer(_ now: Instant) {
        electionDeadline = now + random.duration(in: options.electionTimeout)
    }

    /// Whether this node is, or heard within the minimum election timeout from, the leader of its
    /// term (or started less than that ago, when leader stickiness is on).
    func heardFromLeaderRecently(_ now: Instant) -> Bool {
        if role == .leader { return true }
        if let blocked = votesBlockedUntil, now < blocked { return true }
        guard leader != nil, let contact = lastLeaderContact else { return false }
        return now < contact + options.electionTimeout.lowerBound
    }

    /// The `quorum`-th largest value in `scratch` (one per server): what a majority has reached.
    mutating func majorityOfScratch() -> UInt64 {
        scratch.sort()
        return scratch[scratch.count - quorum]
    }

    /// Persists term and vote if they changed, and reports role, term and commit progress.
    mutating func finishStep(_ out: inout Effects<Raft>) {
        if hardStateDirty {
            out.persist(.hardState(RaftHardState(term: currentTerm, votedFor: votedFor)))
            hardStateDirty = false
        }
        if reportedRole != role || reportedTerm != currentTerm {
            reportedRole = role
            reportedTerm = currentTerm
            out.emit(.role(role.labRole, term: currentTerm, name: role.rawValue))
        }
        if commitIndex > reportedCommit {
            reportedCommit = commitIndex
            out.emit(.committed(commitIndex))
        }
        nextDeadline = armedDeadline
    }
}

/// A server's role (§5.1), with the thesis's pre-candidate (§9.6).
package enum RaftRole: String, Sendable {
    case follower
    /// Asking for pre-votes, term unchanged.
    case preCandidate = "pre-candidate"
    case candidate
    case leader

    /// The role as the lab compares it across protocols.
    var labRole: ConsensusCore.Role {
        switch self {
        case .follower: .follower
        case .preCandidate, .candidate: .candidate
        case .leader: .leader
        }
    }
}
