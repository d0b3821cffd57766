import ConsensusCore
import KVStore

/// A FOLLOWING node's connection to its leader (ZooKeeper's `Follower` / `Learner`).
struct FollowerSession {
    enum Phase {
        /// FOLLOWERINFO sent, waiting for LEADERINFO.
        case discovery
        /// ACKEPOCH sent, waiting for DIFF, TRUNC or SNAP.
        case synchronizing
        /// The sync is applied, waiting for NEWLEADER.
        case synced
        /// NEWLEADER acknowledged, waiting for UPTODATE.
        case awaitingUpToDate
        /// Serving clients, logging proposals, applying commits.
        case broadcasting
    }

    let leader: NodeID
    /// Names this connection, so that the leader tells its messages from those of an earlier
    /// connection of the same follower (TCP does that for ZooKeeper).
    let connection: UInt64
    var phase = Phase.discovery
    /// The leader's new epoch, from LEADERINFO.
    var epoch: Epoch?
    /// The current epoch this follower reported in ACKEPOCH (`nil`: it had already accepted the
    /// epoch, so its acknowledgement does not count), re-sent unchanged until the sync arrives.
    var reportedEpoch: Epoch?
    var lastHeard: Instant
    var resendAt: Instant
    /// A SNAP arriving in chunks, kept in memory until the last one: a crash, or a new connection,
    /// loses it, and the leader sends the state again.
    var incomingSnapshot = SnapshotAssembly()

    /// ZooKeeper's socket timeouts: initLimit ticks until synced, syncLimit ticks afterwards.
    func silenceLimit(_ options: ZabOptions) -> TimeSpan {
        phase == .broadcasting ? options.syncTimeout : options.initTimeout
    }

    func nextDeadline(_ options: ZabOptions) -> Instant {
        let silence = lastHeard + silenceLimit(options)
        switch phase {
        case .discovery, .synchronizing: return min(silence, resendAt)
        case .synced, .awaitingUpToDate, .broadcasting: return silence
        }
    }
}

extension Zab {
    mutating func becomeFollower(of leader: NodeID, at now: Instant, into out: inout Effects<Zab>) {
        let session = FollowerSession(leader: leader, connection: random.next(), lastHeard: now, resendAt: now + options.retransmitInterval)
        role = .following(session)
        out.emit(.role(.follower, term: currentEpoch, name: ServerState.following.rawValue))
        sendFollowerInfo(session, into: &out)
    }

    func sendFollowerInfo(_ session: FollowerSession, into out: inout Effects<Zab>) {
        out.send(.followerInfo(connection: session.connection, acceptedEpoch: acceptedEpoch, lastZxid: log.lastZxid), to: session.leader)
    }

    func sendAckEpoch(_ session: FollowerSession, into out: inout Effects<Zab>) {
        guard let epoch = session.epoch else { return }
        out.send(.ackEpoch(connection: session.connection, epoch: epoch, currentEpoch: session.reportedEpoch,
                           history: log.summary(snapshotZxid: snapshotZxid)), to: session.leader)
    }

    mutating func followerTick(in session: inout FollowerSession, at now: Instant, into out: inout Effects<Zab>) {
        let limit = session.silenceLimit(options)
        if now >= session.lastHeard + limit {
            lookForLeader(at: now, reason: "no word from leader \(session.leader) for \(limit)", into: &out)
            return
        }
        guard now >= session.resendAt else { return }
        session.resendAt = now + options.retransmitInterval
        switch session.phase {
        case .discovery: sendFollowerInfo(session, into: &out)
        case .synchronizing: sendAckEpoch(session, into: &out)
        case .synced, .awaitingUpToDate, .broadcasting: break
        }
    }

    /// A message from the leader this node follows.
    mutating func followerReceive(_ message: ZabMessage, in session: inout FollowerSession, at now: Instant, into out: inout Effects<Zab>) {
        if case .leaderInfo(let epoch) = message {
            receiveLeaderInfo(epoch, in: &session, at: now, into: &out)
            return
        }
        guard let epoch = session.epoch, message.epoch == epoch else { return }
        session.lastHeard = now
        let phase = session.phase
        let aligned = phase == .synced || phase == .awaitingUpToDate || phase == .broadcasting
        switch message {
        case .sync(let payload) where phase == .synchronizing && payload.connection == session.connection:
            receiveSync(payload, epoch: epoch, in: &session, into: &out)
        case .newLeader(let connection, _, _) where connection == session.connection && aligned:
            acknowledgeNewLeader(epoch, in: &session, into: &out)
        case .upToDate(_, let committed) where phase == .awaitingUpToDate || phase == .broadcasting:
            enterBroadcast(epoch, in: &session)
            commit(throughZxid: committed, into: &out)
        case .proposal(_, let previous, let transactions) where phase == .awaitingUpToDate || phase == .broadcasting:
            acceptProposal(previous: previous, transactions, epoch: epoch, from: session.leader, into: &out)
        case .commit(_, let zxid) where phase == .awaitingUpToDate || phase == .broadcasting:
            // Only an established leader commits: this COMMIT also says UPTODATE.
            enterBroadcast(epoch, in: &session)
            commit(throughZxid: zxid, into: &out)
        case .ping(_, let round, let committed):
            if aligned { commit(throughZxid: committed, into: &out) }
            out.send(.pingReply(epoch: epoch, round: round, lastZxid: log.lastZxid, upToDate: session.phase == .broadcasting), to: session.leader)
        case .syncReply(_, let client, let sequence, let zxid):
            syncAnswered(client: client, sequence: sequence, zxid: zxid, into: &out)
        default:
            break
        }
    }

    /// UPTODATE: the leader's epoch is established; serve clients and report the epoch's vote.
    mutating func enterBroadcast(_ epoch: Epoch, in session: inout FollowerSession) {
        session.phase = .broadcasting
        updateElectionVote(epoch: epoch)
    }

    /// NEWEPOCH: promise to follow epoch `epoch` (Zab §III phase 1: only if it exceeds the epoch
    /// already accepted, once per epoch).
    mutating func receiveLeaderInfo(_ epoch: Epoch, in session: inout FollowerSession, at now: Instant, into out: inout Effects<Zab>) {
        switch session.phase {
        case .discovery:
            session.lastHeard = now
            if epoch > acceptedEpoch {
                acceptedEpoch = epoch
                persistEpochs(into: &out)
                session.reportedEpoch = currentEpoch
            } else if epoch == acceptedEpoch {
                // Already accepted (e.g. before a restart): ZooKeeper answers with -1, which the
                // leader does not count towards its quorum.
                session.reportedEpoch = nil
            } else {
                lookForLeader(at: now, reason: "\(session.leader) proposed epoch \(epoch), below the accepted epoch \(acceptedEpoch)", into: &out)
                return
            }
            session.epoch = epoch
            session.phase = .synchronizing
            session.resendAt = now + options.retransmitInterval
            out.emit(.role(.follower, term: epoch, name: ServerState.following.rawValue))
            sendAckEpoch(session, into: &out)
        case .synchronizing where session.epoch == epoch:
            session.lastHeard = now
            sendAckEpoch(session, into: &out)
        default:
            break
        }
    }

    /// NEWLEADER: the history is the new epoch's; make the epoch current and acknowledge (again, if
    /// the leader missed the first acknowledgement).
    mutating func acknowledgeNewLeader(_ epoch: Epoch, in session: inout FollowerSession, into out: inout Effects<Zab>) {
        guard acceptedEpoch == epoch else { return }
        if session.phase == .synced {
            currentEpoch = epoch
            persistEpochs(into: &out)
            session.phase = .awaitingUpToDate
        }
        out.send(.ackNewLeader(connection: session.connection, epoch: epoch, lastZxid: log.lastZxid), to: session.leader)
    }

    /// DIFF, TRUNC or TRUNC+DIFF, or a chunk of a SNAP: a chunk that is not the last is put with the
    /// others in memory and answered with how much of the state this node holds (`Zab.sendSnap`);
    /// the last one applies the whole SNAP.
    mutating func receiveSync(_ payload: SyncPayload, epoch: Epoch, in session: inout FollowerSession, into out: inout Effects<Zab>) {
        var snapshot: Snapshot?
        if let chunk = payload.snapshot {
            switch session.incomingSnapshot.add(chunk) {
            case .incomplete(let bytesStored):
                // Only memory changed: the answer promises nothing about the disk and leaves at once.
                out.send(.snapAck(connection: session.connection, epoch: epoch, snapshotIndex: chunk.lastIndex, bytesStored: bytesStored),
                         to: session.leader, departing: .atOnce)
                return
            case .complete(let whole):
                snapshot = whole
            }
        }
        if applySync(payload, snapshot: snapshot, into: &out) { session.phase = .synced }
    }

    /// Applies DIFF, TRUNC, TRUNC+DIFF or SNAP (with the state `snapshot`, put together from its
    /// chunks). Returns false (and changes nothing) if the payload does not fit this node's log.
    mutating func applySync(_ payload: SyncPayload, snapshot: Snapshot?, into out: inout Effects<Zab>) -> Bool {
        if let snapshot {
            if snapshot.lastIndex > appliedIndex {
                let restored: KVStore
                do { restored = try KVStore(snapshot: snapshot.data, sessions: options.sessions) } catch {
                    violate(.inconsistentSync, "SNAP at index \(snapshot.lastIndex) does not decode: \(error)", into: &out)
                    return false
                }
                out.persist(.snapshot(snapshot))
                out.persist(.truncate(from: snapshot.lastIndex + 1))
                store = restored
                appliedIndex = snapshot.lastIndex
                appliedZxid = Zxid(rawValue: snapshot.lastTerm)
                snapshotIndex = appliedIndex
                snapshotZxid = appliedZxid
                loggedSinceSnapshot = 0
                log.reset(baseIndex: appliedIndex, baseZxid: appliedZxid)
                servePendingReads(into: &out)
            } else {
                // This node has already applied at least as much: keep its state, replace the rest.
                truncate(after: appliedIndex, into: &out)
            }
        }
        if let point = payload.truncateTo {
            guard let index = log.index(of: point) else {
                violate(.inconsistentSync, "TRUNC to \(point), which this node does not hold (last \(log.lastZxid))", into: &out)
                return false
            }
            truncate(after: index, into: &out)
        }
        let skip = log.lastIndex + 1 - payload.firstIndex
        guard skip >= 0 else {
            violate(.inconsistentSync, "DIFF starting at index \(payload.firstIndex) leaves a gap after index \(log.lastIndex)", into: &out)
            return false
        }
        if skip < payload.proposals.count { append(skip == 0 ? payload.proposals : Array(payload.proposals[skip...]), into: &out) }
        snapshotIfDue(into: &out)
        return true
    }

    /// PROPOSAL: log the transactions that extend this node's log, then ACK (the driver makes the
    /// log write durable before the ACK leaves). Out-of-order ones are not logged: the ACK says
    /// where the log ends, and the leader sends the rest again.
    mutating func acceptProposal(previous: Zxid, _ transactions: [Transaction], epoch: Epoch, from leader: NodeID, into out: inout Effects<Zab>) {
        guard let newest = transactions.last?.zxid else { return }
        let last = log.lastZxid
        if newest > last {
            guard previous <= last else {
                out.send(.ack(epoch: epoch, zxid: last, gap: true), to: leader)
                return
            }
            // Within an epoch this log is a prefix of the leader's: what is not newer is already here.
            append(transactions[0].zxid > last ? transactions : transactions.filter { $0.zxid > last }, into: &out)
            snapshotIfDue(into: &out)
        }
        out.send(.ack(epoch: epoch, zxid: log.lastZxid, gap: false), to: leader)
    }
}
