import ConsensusCore
import KVStore

/// A LEADING node's state (ZooKeeper's `Leader` and one `LearnerHandler` per follower).
struct LeaderSession {
    enum Phase {
        /// Collecting FOLLOWERINFO from a quorum to choose the new epoch.
        case discovery
        /// LEADERINFO sent; collecting ACKEPOCH from a quorum.
        case epochAck
        /// Followers synced and sent NEWLEADER; collecting its ACK from a quorum.
        case newLeaderAck
        /// Established: proposing, committing, serving.
        case broadcasting
    }

    struct Learner {
        enum Stage { case connected, epochAcked, syncing, synced }

        let connection: UInt64
        var stage = Stage.connected
        var acceptedEpoch: Epoch
        /// Whether its ACKEPOCH counts towards the quorum (it had not accepted the epoch before).
        var counted = false
        var history: HistorySummary?
        var lastHeard: Instant
        var syncSentAt = Instant.zero
        /// A SNAP under way: the state being sent in chunks, and how much of it the follower holds.
        var snap: SnapshotTransfer?
        /// The last index the follower has logged (valid once synced).
        var acked: LogIndex = 0
        /// The next index to send it.
        var nextIndex: LogIndex = 0
        /// When `acked` last moved.
        var progressAt = Instant.zero
        /// When proposals were last sent again from `resentFrom` (`resend`): a gap ACK for the
        /// index before it was caused by a batch sent before that, and needs no second re-send.
        var resentAt = Instant.zero
        var resentFrom: LogIndex = 0
        /// The last PING round it answered.
        var echoedRound: UInt64 = 0
    }

    /// A `sync` waiting for the leader to confirm that a quorum still follows it and to commit
    /// everything it had proposed when the sync arrived.
    struct PendingSync {
        var origin: NodeID
        var client: ClientID
        var sequence: UInt64
        var zxid: Zxid
        var round: UInt64
    }

    var phase = Phase.discovery
    var epoch: Epoch = 0
    /// Discovery and synchronisation must finish within initLimit ticks (ZooKeeper's waits).
    var phaseDeadline: Instant
    var learners: [Learner?]
    var nextPingAt: Instant
    var pingRound: UInt64 = 0
    var lastPingAt: Instant?
    /// Client requests proposed in this epoch, so that retries are not proposed twice (a request
    /// already applied is caught by the store's cached answer).
    var proposed = OutstandingRequests()
    var pendingSyncs: [PendingSync] = []
    /// How far the leader's own log is durable: its own vote in the commit count. PROPOSALs leave
    /// before the leader's write is durable, so it counts itself only once its disk acknowledges
    /// (the ACK it sends itself, as ZooKeeper's leader acknowledges its own proposals after its
    /// SyncRequestProcessor logged them).
    var ownAcked: LogIndex = 0

    var nextDeadline: Instant { phase == .broadcasting ? nextPingAt : min(nextPingAt, phaseDeadline) }

    /// The learner handler of follower `peer`: nil until it sends FOLLOWERINFO, and for a node
    /// outside the cluster (whose messages are dropped, never trapped on).
    subscript(learner peer: NodeID) -> Learner? {
        get { learners.indices.contains(peer.index) ? learners[peer.index] : nil }
        set { if learners.indices.contains(peer.index) { learners[peer.index] = newValue } }
    }

    /// How many followers satisfy `predicate` (without building an array: this runs on every ACK).
    func count(where predicate: (Learner) -> Bool) -> Int {
        var count = 0
        for learner in learners { if let learner, predicate(learner) { count += 1 } }
        return count
    }
}

extension Zab {
    /// Proposals per PROPOSAL message when catching a follower up.
    static let maxProposalBatch = 64
    /// How far catch-up batches may run ahead of what a follower acknowledged (etcd's inflight
    /// window): a follower that lost a batch discards every later one (it logs only what extends
    /// its log), so batches pushed blindly every tick only move `nextIndex` away from where it
    /// must resume; within the window, each ACK sends the next batches.
    static let catchUpWindow = 4 * maxProposalBatch

    mutating func becomeLeader(at now: Instant, into out: inout Effects<Zab>) {
        role = .leading(LeaderSession(phaseDeadline: now + options.initTimeout, learners: Array(repeating: nil, count: cluster.count),
                                      nextPingAt: now + options.pingInterval))
        out.emit(.note(kind: "epoch", detail: "LEADING: waiting for FOLLOWERINFO from a quorum (accepted epoch \(acceptedEpoch))"))
        withLeaderSession { node, session in node.checkDiscoveryQuorum(in: &session, at: now, into: &out) }
    }

    mutating func leaderReceive(_ message: ZabMessage, from peer: NodeID, in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        switch message {
        case .ack(let epoch, let zxid, _) where peer == id:
            guard epoch == session.epoch, let index = log.index(of: zxid), index > session.ownAcked else { return }
            session.ownAcked = index
            advanceCommit(in: &session, into: &out)
            return
        case .followerInfo(let connection, let epoch, _):
            receiveFollowerInfo(connection: connection, acceptedEpoch: epoch, from: peer, in: &session, at: now, into: &out)
            return
        case .request(let request):
            session[learner: peer]?.lastHeard = now
            propose(request, in: &session, at: now, into: &out)
            return
        default:
            break
        }
        guard message.epoch == session.epoch, session[learner: peer] != nil else { return }
        session[learner: peer]?.lastHeard = now
        switch message {
        case .ackEpoch(let connection, _, let current, let history):
            receiveAckEpoch(connection: connection, currentEpoch: current, history: history, from: peer, in: &session, at: now, into: &out)
        case .snapAck(let connection, _, let snapshotIndex, let bytesStored):
            guard var learner = session[learner: peer], learner.connection == connection, learner.stage == .syncing,
                  var transfer = learner.snap, transfer.snapshot.lastIndex == snapshotIndex, transfer.receiverHolds(bytesStored) else { return }
            learner.snap = transfer
            learner.syncSentAt = now
            sendSnap(to: peer, &learner, epoch: session.epoch, resent: false, into: &out)
            session[learner: peer] = learner
        case .ackNewLeader(let connection, _, let lastZxid):
            receiveAckNewLeader(connection: connection, lastZxid: lastZxid, from: peer, in: &session, at: now, into: &out)
        case .ack(_, let zxid, let gap):
            acknowledged(zxid, by: peer, in: &session, at: now)
            if let learner = session[learner: peer], learner.stage == .synced {
                if gap, learner.resentFrom != learner.acked + 1 || now - learner.resentAt >= options.retransmitInterval {
                    resend(to: peer, in: &session, at: now, into: &out)
                } else if !gap {
                    replicate(to: peer, in: &session, at: now, into: &out)
                }
            }
            advanceCommit(in: &session, into: &out)
        case .pingReply(_, let round, let lastZxid, let upToDate):
            guard var learner = session[learner: peer] else { return }
            learner.echoedRound = max(learner.echoedRound, round)
            session[learner: peer] = learner
            guard learner.stage == .synced else { return }
            acknowledged(lastZxid, by: peer, in: &session, at: now)
            if !upToDate, session.phase == .broadcasting { out.send(.upToDate(epoch: session.epoch, committed: appliedZxid), to: peer) }
            advanceCommit(in: &session, into: &out)
            answerSyncs(in: &session, into: &out)
        case .syncRequest(_, let client, let sequence) where session.phase == .broadcasting:
            leaderSync(for: peer, client: client, sequence: sequence, in: &session, at: now, into: &out)
        default:
            break
        }
    }

    // MARK: Discovery

    /// CEPOCH/FOLLOWERINFO. A new connection replaces whatever the leader knew of that follower.
    mutating func receiveFollowerInfo(connection: UInt64, acceptedEpoch epoch: Epoch, from peer: NodeID, in session: inout LeaderSession,
                                      at now: Instant, into out: inout Effects<Zab>) {
        if session[learner: peer]?.connection != connection {
            session[learner: peer] = LeaderSession.Learner(connection: connection, acceptedEpoch: epoch, lastHeard: now)
        }
        session[learner: peer]?.lastHeard = now
        if session.phase == .discovery {
            checkDiscoveryQuorum(in: &session, at: now, into: &out)
        } else {
            out.send(.leaderInfo(epoch: session.epoch), to: peer)
        }
    }

    /// With FOLLOWERINFO from a quorum (the leader included), propose an epoch above every epoch
    /// they accepted (ZooKeeper's `getEpochToPropose`), and remember it as accepted.
    mutating func checkDiscoveryQuorum(in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard session.phase == .discovery else { return }
        let connected = session.learners.compactMap { $0 }
        guard connected.count + 1 >= quorum else { return }
        let epoch = connected.map(\.acceptedEpoch).reduce(acceptedEpoch, max) + 1
        acceptedEpoch = epoch
        persistEpochs(into: &out)
        session.epoch = epoch
        session.phase = .epochAck
        session.phaseDeadline = now + options.initTimeout
        out.emit(.role(.leader, term: epoch, name: ServerState.leading.rawValue))
        out.emit(.note(kind: "epoch", detail: "proposes epoch \(epoch) to \(names(in: session, connected: true))"))
        for peer in cluster where session[learner: peer] != nil { out.send(.leaderInfo(epoch: epoch), to: peer) }
        checkEpochAckQuorum(in: &session, at: now, into: &out)
    }

    /// ACK-E. A follower whose history is more recent than the leader's (by current epoch, then
    /// last zxid) would make the leader lose committed transactions: ZooKeeper gives up then.
    mutating func receiveAckEpoch(connection: UInt64, currentEpoch reported: Epoch?, history: HistorySummary, from peer: NodeID,
                                  in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard var learner = session[learner: peer], learner.connection == connection, learner.stage == .connected else { return }
        if let reported, (reported, history.lastZxid.rawValue) > (currentEpoch, log.lastZxid.rawValue) {
            let why = "\(peer) is ahead of the leader (epoch \(reported), zxid \(history.lastZxid) against \(currentEpoch), \(log.lastZxid))"
            if session.phase == .epochAck {
                lookForLeader(at: now, reason: why, into: &out)
            } else {
                session[learner: peer] = nil
                out.emit(.note(kind: "sync", detail: "refused: " + why))
            }
            return
        }
        learner.stage = .epochAcked
        learner.counted = reported != nil
        learner.history = history
        session[learner: peer] = learner
        switch session.phase {
        case .epochAck: checkEpochAckQuorum(in: &session, at: now, into: &out)
        case .newLeaderAck, .broadcasting: synchronize(peer, in: &session, at: now, first: true, into: &out)
        case .discovery: break
        }
    }

    /// With ACK-E from a quorum the epoch becomes current and every acknowledged follower is synced.
    mutating func checkEpochAckQuorum(in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard session.phase == .epochAck else { return }
        let acked = session.count { $0.stage == .epochAcked && $0.counted }
        guard acked + 1 >= quorum else { return }
        currentEpoch = session.epoch
        persistEpochs(into: &out)
        session.phase = .newLeaderAck
        session.phaseDeadline = now + options.initTimeout
        for peer in cluster where session[learner: peer]?.stage == .epochAcked { synchronize(peer, in: &session, at: now, first: true, into: &out) }
        checkNewLeaderQuorum(in: &session, at: now, into: &out)
    }

    // MARK: Synchronisation

    /// Sends the follower DIFF, TRUNC (+DIFF) or SNAP, then NEWLEADER; again after a silent tick.
    /// A SNAP the follower has begun to receive goes on where the follower stands; one it holds
    /// nothing of is planned afresh, so that it carries the leader's current state and the fewest
    /// proposals (as each ZooKeeper sync serialises the state the leader has then).
    mutating func synchronize(_ peer: NodeID, in session: inout LeaderSession, at now: Instant, first: Bool, into out: inout Effects<Zab>) {
        guard var learner = session[learner: peer], let history = learner.history else { return }
        learner.stage = .syncing
        learner.syncSentAt = now
        if learner.snap.map({ $0.offset == 0 }) ?? true {
            let decision = SyncDecision.decide(follower: history, window: log.entries.map(\.zxid), windowBase: log.baseZxid)
            if let common = decision.commonZxid, let index = log.index(of: common) {
                learner.snap = nil
                session[learner: peer] = learner
                let truncateTo = decision.mode == .diff ? nil : common
                let payload = SyncPayload(connection: learner.connection, epoch: session.epoch, mode: decision.mode, truncateTo: truncateTo,
                                          snapshot: nil, firstIndex: index + 1, proposals: proposals(from: index + 1))
                out.send(.sync(payload), to: peer)
                out.send(.newLeader(connection: learner.connection, epoch: session.epoch, lastZxid: log.lastZxid), to: peer)
                if first { out.emit(.note(kind: "sync", detail: describe(decision.mode, to: peer, follower: history, truncateTo: truncateTo, snap: nil,
                                                                              proposalsFrom: index + 1))) }
                return
            }
            learner.snap = SnapshotTransfer(appliedState, chunkSize: options.snapshotChunk)
            if first { out.emit(.note(kind: "sync", detail: describe(.snap, to: peer, follower: history, truncateTo: nil, snap: learner.snap,
                                                                  proposalsFrom: appliedIndex + 1))) }
        }
        sendSnap(to: peer, &learner, epoch: session.epoch, resent: !first, into: &out)
        session[learner: peer] = learner
    }

    /// The state this node has applied, as a snapshot.
    var appliedState: Snapshot { Snapshot(lastIndex: appliedIndex, lastTerm: appliedZxid.rawValue, data: store.snapshot()) }

    /// The transactions in memory from `index` on.
    func proposals(from index: LogIndex) -> [Transaction] {
        index <= log.lastIndex ? Array(log.entries[(index - log.firstIndex)...]) : []
    }

    /// Sends the chunk of the SNAP under way that starts where the follower stands.
    ///
    /// Where ZooKeeper streams the serialised state over the follower's TCP connection between the
    /// SNAP header and the proposals, the lab's network loses, duplicates and reorders messages, so
    /// the state travels as Raft's InstallSnapshot does (Figure 13, `SnapshotTransfer`): a SNAP sync
    /// per chunk, one outstanding at a time, each chunk but the last answered by SNAPACK with how
    /// much the follower holds. Keeping the SYNC message, rather than adding a chunk message beside
    /// it, keeps the flow a follower in `synchronizing` already follows: the last chunk is the
    /// whole SYNC of before — it carries the proposals that follow the state and is followed by
    /// NEWLEADER, and waits for the leader's writes as every SYNC does — so a state that fits in
    /// one chunk is synced in exactly the messages of an unchunked SNAP. Earlier chunks promise
    /// nothing about the leader's disk and leave at once.
    ///
    /// A chunk the retransmission timer sends (`resent`) is followed by NEWLEADER too, as every
    /// sync of an unchunked SNAP was: the follower may have applied an earlier sync of this
    /// connection and lost only its NEWLEADER, and then it ignores chunks and waits for that alone.
    /// A follower still receiving chunks ignores a NEWLEADER before the last one.
    mutating func sendSnap(to peer: NodeID, _ learner: inout LeaderSession.Learner, epoch: Epoch, resent: Bool, into out: inout Effects<Zab>) {
        guard var transfer = learner.snap else { return }
        if transfer.snapshot.lastIndex + 1 < log.firstIndex {
            // The leader no longer holds the proposals that follow that state: send its state now.
            transfer = SnapshotTransfer(appliedState, chunkSize: options.snapshotChunk)
            learner.snap = transfer
        }
        let chunk = transfer.chunk
        let from = transfer.snapshot.lastIndex + 1
        var payload = SyncPayload(connection: learner.connection, epoch: epoch, mode: .snap, truncateTo: nil, snapshot: chunk,
                                  firstIndex: from, proposals: [])
        if chunk.done {
            payload.proposals = proposals(from: from)
            out.send(.sync(payload), to: peer)
        } else {
            out.send(.sync(payload), to: peer, departing: .atOnce)
        }
        guard chunk.done || resent else { return }
        out.send(.newLeader(connection: learner.connection, epoch: epoch, lastZxid: log.lastZxid), to: peer)
    }

    func describe(_ mode: SyncMode, to peer: NodeID, follower: HistorySummary, truncateTo: Zxid?, snap: SnapshotTransfer?,
                  proposalsFrom from: LogIndex) -> String {
        var text = "\(mode.rawValue) to \(peer) (its last zxid \(follower.lastZxid)"
        if let first = log.entries.first { text += ", window \(first.zxid)…\(log.lastZxid)" }
        text += ")"
        if let point = truncateTo { text += ": roll back to \(point)" }
        if let snap {
            text += ": snapshot at \(Zxid(rawValue: snap.snapshot.lastTerm))"
            if snap.chunkCount > 1 { text += " in \(snap.chunkCount) chunks" }
        }
        if from <= log.lastIndex, let first = log.transaction(at: from) {
            text += truncateTo == nil && snap == nil ? ": " : ", then "
            text += "\(log.lastIndex - from + 1) proposals \(first.zxid)…\(log.lastZxid)"
        } else if truncateTo == nil, snap == nil {
            text += ": nothing missing"
        }
        return text
    }

    mutating func receiveAckNewLeader(connection: UInt64, lastZxid: Zxid, from peer: NodeID, in session: inout LeaderSession,
                                      at now: Instant, into out: inout Effects<Zab>) {
        guard var learner = session[learner: peer], learner.connection == connection, learner.stage == .syncing else { return }
        guard let index = log.index(of: lastZxid) else {
            if lastZxid > log.lastZxid { violate(.historyBeyondLeader, "\(peer) acknowledged NEWLEADER at \(lastZxid), beyond the leader's \(log.lastZxid)", into: &out) }
            session[learner: peer] = nil
            return
        }
        learner.stage = .synced
        learner.snap = nil
        learner.acked = index
        learner.nextIndex = index + 1
        learner.progressAt = now
        session[learner: peer] = learner
        switch session.phase {
        case .newLeaderAck:
            checkNewLeaderQuorum(in: &session, at: now, into: &out)
        case .broadcasting:
            out.send(.upToDate(epoch: session.epoch, committed: appliedZxid), to: peer)
            replicate(to: peer, in: &session, at: now, into: &out)
        case .discovery, .epochAck:
            break
        }
    }

    /// A quorum accepted the leader's history: it is committed (Zab: the new primary delivers its
    /// initial history before proposing), and broadcasting begins.
    mutating func checkNewLeaderQuorum(in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard session.phase == .newLeaderAck else { return }
        let synced = session.count { $0.stage == .synced }
        guard synced + 1 >= quorum else { return }
        session.phase = .broadcasting
        // NEWLEADER left only once the leader's writes were durable: its whole history is.
        session.ownAcked = log.lastIndex
        updateElectionVote(epoch: session.epoch)
        out.emit(.note(kind: "epoch", detail: "epoch \(session.epoch) established by \(names(in: session, connected: false)); history up to \(log.lastZxid)"))
        commit(through: log.lastIndex, into: &out)
        for peer in cluster where session[learner: peer]?.stage == .synced {
            out.send(.upToDate(epoch: session.epoch, committed: appliedZxid), to: peer)
            replicate(to: peer, in: &session, at: now, into: &out)
        }
        session.nextPingAt = now
    }

    // MARK: Broadcast

    /// A write from a client: give it the next zxid, log it, propose it to every synced follower.
    mutating func propose(_ request: ClientRequest, in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard proposes(in: session), store.cachedReply(for: request) == nil, session.proposed.insert(request) else { return }
        let epoch = session.epoch
        let previous = log.lastZxid
        let zxid = previous.epoch == epoch ? previous.next : Zxid(epoch: epoch, counter: 1)
        let transactions = [Transaction(zxid: zxid, stamp: now, request: request)]
        append(transactions, into: &out)
        out.send(.ack(epoch: epoch, zxid: zxid, gap: false), to: id)
        for peer in cluster {
            guard let learner = session[learner: peer], learner.stage == .synced, learner.nextIndex == log.lastIndex else { continue }
            out.send(.proposal(epoch: epoch, previous: previous, transactions: transactions), to: peer, departing: .atOnce)
            session[learner: peer]?.nextIndex += 1
        }
        advanceCommit(in: &session, into: &out)
        snapshotIfDue(into: &out)
    }

    mutating func acknowledged(_ zxid: Zxid, by peer: NodeID, in session: inout LeaderSession, at now: Instant) {
        guard var learner = session[learner: peer], learner.stage == .synced, let index = log.index(of: zxid), index > learner.acked else { return }
        learner.acked = index
        learner.progressAt = now
        if index >= learner.nextIndex { learner.nextIndex = index + 1 }
        session[learner: peer] = learner
    }

    /// Commits, in zxid order, everything a quorum has logged durably: the highest index that
    /// `quorum` of the leader (`ownAcked`) and its synced followers have acknowledged.
    mutating func advanceCommit(in session: inout LeaderSession, into out: inout Effects<Zab>) {
        guard session.phase == .broadcasting else { return }
        func logged(through index: LogIndex) -> Int {
            session.count(where: { $0.stage == .synced && $0.acked >= index }) + (session.ownAcked >= index ? 1 : 0)
        }
        var committed = appliedIndex
        if logged(through: log.lastIndex) >= quorum { committed = log.lastIndex }
        func consider(_ candidate: LogIndex) {
            if candidate > committed, candidate <= log.lastIndex, logged(through: candidate) >= quorum { committed = candidate }
        }
        for learner in session.learners { if let learner, learner.stage == .synced { consider(learner.acked) } }
        consider(session.ownAcked)
        guard committed > appliedIndex else { return }
        commit(through: committed, into: &out)
        for peer in cluster where session[learner: peer]?.stage == .synced {
            out.send(.commit(epoch: session.epoch, zxid: appliedZxid), to: peer)
        }
        answerSyncs(in: &session, into: &out)
    }

    /// Sends a follower the next proposals it has not been sent, in batches, as far as
    /// `catchUpWindow` past what it acknowledged.
    mutating func replicate(to peer: NodeID, in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard var learner = session[learner: peer], learner.stage == .synced else { return }
        guard learner.nextIndex >= log.firstIndex else {
            // What it misses is only in a snapshot now: let it time out, come back and get a SNAP.
            session[learner: peer] = nil
            out.emit(.note(kind: "sync", detail: "\(peer) fell behind the committed log (needs index \(learner.nextIndex), oldest kept \(log.firstIndex)); dropped"))
            return
        }
        while learner.nextIndex <= min(log.lastIndex, learner.acked + Self.catchUpWindow) {
            let end = min(log.lastIndex, learner.nextIndex + Self.maxProposalBatch - 1)
            let batch = Array(log.entries[(learner.nextIndex - log.firstIndex)...(end - log.firstIndex)])
            // `!`: firstIndex ≤ nextIndex (the guard above) ≤ lastIndex (the loop's condition), so
            // the zxid before `nextIndex` is the log's base or a transaction in memory.
            out.send(.proposal(epoch: session.epoch, previous: log.zxid(at: learner.nextIndex - 1)!, transactions: batch), to: peer, departing: .atOnce)
            learner.nextIndex = end + 1
        }
        session[learner: peer] = learner
    }

    /// Sends again from the first proposal the follower has not acknowledged (lost or reordered).
    mutating func resend(to peer: NodeID, in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        guard var learner = session[learner: peer], learner.stage == .synced else { return }
        learner.nextIndex = learner.acked + 1
        learner.resentFrom = learner.nextIndex
        learner.resentAt = now
        session[learner: peer] = learner
        replicate(to: peer, in: &session, at: now, into: &out)
    }

    // MARK: Timers

    mutating func leaderTick(in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        if session.phase != .broadcasting, now >= session.phaseDeadline {
            lookForLeader(at: now, reason: "no quorum within initLimit (\(session.phase))", into: &out)
            return
        }
        guard now >= session.nextPingAt else { return }
        session.nextPingAt = now + options.pingInterval
        if session.phase == .broadcasting {
            // ZooKeeper's Leader.lead loop: without a quorum of followers heard within syncLimit, give up.
            let heard = session.count { $0.stage == .synced && now - $0.lastHeard < options.syncTimeout }
            if heard + 1 < quorum {
                lookForLeader(at: now, reason: "heard from only \(heard) followers within syncLimit", into: &out)
                return
            }
        }
        ping(in: &session, at: now, into: &out)
        for peer in cluster {
            guard let learner = session[learner: peer] else { continue }
            switch learner.stage {
            case .syncing where now - learner.syncSentAt >= options.retransmitInterval:
                synchronize(peer, in: &session, at: now, first: false, into: &out)
            case .synced where learner.acked < log.lastIndex && now - max(learner.progressAt, learner.resentAt) >= options.retransmitInterval:
                resend(to: peer, in: &session, at: now, into: &out)
            case .synced where learner.nextIndex <= log.lastIndex:
                replicate(to: peer, in: &session, at: now, into: &out)
            default:
                break
            }
        }
    }

    /// PING every follower past discovery; the round lets `sync` reads confirm the leadership.
    mutating func ping(in session: inout LeaderSession, at now: Instant, into out: inout Effects<Zab>) {
        session.pingRound += 1
        session.lastPingAt = now
        for peer in cluster {
            guard let stage = session[learner: peer]?.stage, stage != .connected else { continue }
            out.send(.ping(epoch: session.epoch, round: session.pingRound, committed: appliedZxid), to: peer, departing: .atOnce)
        }
    }

    // MARK: Sync reads

    /// ZooKeeper's `sync`, made linearizable: answered once everything proposed before it is
    /// committed and a quorum has answered a PING sent after it arrived (ZooKeeper itself does not
    /// wait for the PING, and a deposed leader that has not noticed yet can answer stale).
    mutating func leaderSync(for origin: NodeID, client: ClientID, sequence: UInt64, in session: inout LeaderSession,
                             at now: Instant, into out: inout Effects<Zab>) {
        if session.lastPingAt != now { ping(in: &session, at: now, into: &out) }
        session.pendingSyncs.append(LeaderSession.PendingSync(origin: origin, client: client, sequence: sequence,
                                                              zxid: log.lastZxid, round: session.pingRound))
        answerSyncs(in: &session, into: &out)
    }

    mutating func answerSyncs(in session: inout LeaderSession, into out: inout Effects<Zab>) {
        guard session.phase == .broadcasting, !session.pendingSyncs.isEmpty else { return }
        var waiting: [LeaderSession.PendingSync] = []
        for pending in session.pendingSyncs {
            let confirmed = session.count { $0.stage == .synced && $0.echoedRound >= pending.round } + 1
            guard confirmed >= quorum, appliedZxid >= pending.zxid else {
                waiting.append(pending)
                continue
            }
            if pending.origin == id {
                syncAnswered(client: pending.client, sequence: pending.sequence, zxid: pending.zxid, into: &out)
            } else {
                out.send(.syncReply(epoch: session.epoch, client: pending.client, sequence: pending.sequence, zxid: pending.zxid), to: pending.origin)
            }
        }
        session.pendingSyncs = waiting
    }

    /// The followers in a quorum message: those that sent FOLLOWERINFO, or those synced.
    func names(in session: LeaderSession, connected: Bool) -> String {
        let members = cluster.filter { peer in
            peer == id || (connected ? session[learner: peer] != nil : session[learner: peer]?.stage == .synced)
        }
        return members.map(\.description).joined(separator: ",")
    }
}
