import ConsensusCore

/// LOOKING: Fast Leader Election, and the way out of it into FOLLOWING or LEADING.
extension Zab {
    /// Starts a new election round (the seeds' §3.4.1: at start-up, when a follower loses its
    /// leader, when a leader loses its quorum).
    mutating func lookForLeader(at now: Instant, reason: String, into out: inout Effects<Zab>) {
        pendingReads.removeAll()
        electionRound += 1
        let ownVote = Vote(leader: id, zxid: log.lastZxid, epoch: currentEpoch)
        var election = FastLeaderElection(me: id, cluster: cluster, round: electionRound, ownVote: ownVote, options: options, now: now)
        out.emit(.role(.candidate, term: currentEpoch, name: ServerState.looking.rawValue))
        out.emit(.note(kind: "election", detail: "round \(electionRound) (\(reason)): votes for itself, zxid \(ownVote.zxid), epoch \(currentEpoch)"))
        election.start(at: now, into: &out)
        role = .looking(election)
    }

    mutating func receiveNotification(_ notification: Notification, from peer: NodeID, at now: Instant, into out: inout Effects<Zab>) {
        guard case .looking = role else {
            if notification.state == .looking, case .following(let session) = role, session.leader == peer, session.phase == .broadcasting {
                // A leader never says LOOKING while it leads: this one crashed and restarted, or
                // gave up its quorum. ZooKeeper's follower learns that at once from its broken
                // connection; answering FOLLOWING instead would let the restarted leader count
                // this node's stale vote and lead a quorum that never joins it (hunt seed 1278).
                lookForLeader(at: now, reason: "its leader \(peer) is LOOKING", into: &out)
                return receiveNotification(notification, from: peer, at: now, into: &out)
            }
            // Out of the election: tell a LOOKING node whom this node follows or leads.
            if notification.state == .looking {
                out.send(.notification(Notification(vote: vote, round: voteRound, state: state)), to: peer)
            }
            return
        }
        withElection { node, election in
            let decided = election.receive(notification, from: peer, at: now, into: &out)
            node.electionRound = election.round
            if let decided { node.conclude(decided.vote, round: decided.round, at: now, into: &out) }
        }
    }

    mutating func electionTick(in election: inout FastLeaderElection, at now: Instant, into out: inout Effects<Zab>) {
        if let decided = election.tick(at: now, into: &out) { conclude(decided, round: election.round, at: now, into: &out) }
    }

    /// The election is over: lead, or follow the winner (and start discovery with it).
    mutating func conclude(_ winner: Vote, round: UInt64, at now: Instant, into out: inout Effects<Zab>) {
        vote = winner
        voteRound = round
        electionRound = round
        out.emit(.note(kind: "election", detail: "round \(round): \(winner.leader) elected"))
        if winner.leader == id {
            becomeLeader(at: now, into: &out)
        } else {
            becomeFollower(of: winner.leader, at: now, into: &out)
        }
    }

    /// ZooKeeper's `updateElectionVote` (ZOOKEEPER-1732): once a node leads or follows an
    /// established epoch, the vote it tells LOOKING nodes names that epoch. Nodes that joined the
    /// leader through different elections (one on stale FOLLOWING/LEADING votes of an older epoch)
    /// would otherwise report different epochs for the same leader, and a latecomer, which counts
    /// out-of-election votes by leader and epoch, could never find a quorum of them: it would stay
    /// LOOKING for ever beside a working ensemble.
    mutating func updateElectionVote(epoch: Epoch) {
        vote.epoch = epoch
    }
}
