import ConsensusCore

/// One LOOKING period of Fast Leader Election (ZooKeeper's `FastLeaderElection.lookForLeader`).
///
/// A node votes for itself, broadcasts the vote, adopts any better vote it hears (higher epoch,
/// then zxid, then server id) and re-broadcasts it. Votes of older rounds are ignored (their
/// sender is told the current round); a newer round resets the ballot box. When a quorum's votes
/// agree with its own, the node waits `finalizeWait` for a better vote before deciding. Votes from
/// nodes already FOLLOWING or LEADING let a latecomer join the established leader: a quorum of
/// them agree and the leader itself says LEADING, whatever round the latecomer is in (ZooKeeper:
/// "The current participant could use outofelection to learn which participant is the leader if
/// it arrives late (i.e., higher logicalclock than the electionEpoch of the received
/// notifications)").
///
/// Such nodes answer only a LOOKING notification, so a latecomer learns of them only when it
/// sends its vote again. ZooKeeper re-sends after `notTimeout` of silence: over TCP a notification
/// is never lost, and any notification received restarts the wait. On the lab's network the
/// re-send is what makes a lost notification good, so it runs from the node's own last send: a
/// peer repeating a vote must not keep it quiet. (Hunt seed 1538, 8 nodes: n7, LOOKING in a later
/// round than the ensemble the others had just elected, kept hearing n1 and n4 re-send their votes
/// while they missed lost answers, never asked the ensemble again, and stayed LOOKING.)
struct FastLeaderElection {
    let me: NodeID
    let cluster: [NodeID]
    let quorum: Int
    let finalizeWait: TimeSpan
    let maxInterval: TimeSpan
    /// The node's vote for itself (its last zxid and current epoch).
    let ownVote: Vote
    /// ZooKeeper's `logicalclock`.
    private(set) var round: UInt64
    private(set) var proposal: Vote
    /// This round's votes (ZooKeeper's `recvset`), by node index; the node's own included.
    private var received: [Vote?]
    /// Votes of nodes that are FOLLOWING or LEADING (ZooKeeper's `outofelection`).
    private var outOfElection: [Notification?]
    /// ZooKeeper's `notTimeout`: the time after its last send at which the node re-sends its vote,
    /// doubling each time.
    private var interval: TimeSpan
    private(set) var resendAt: Instant
    /// Set while a quorum agrees with `proposal`: the decision falls then unless a better vote or
    /// a newer round comes. ZooKeeper waits `finalizeWait` again after every notification that is
    /// not better; there, over TCP, they stop coming, but here LOOKING nodes re-send on their own
    /// timers, and a wait restarted by each of them lasted seconds (hunt seeds 5118, 9528 and 1278
    /// of `zab[read=sync]`). The deadline is kept: a repeated vote neither ends nor extends it.
    private(set) var finalizeAt: Instant?

    init(me: NodeID, cluster: [NodeID], round: UInt64, ownVote: Vote, options: ZabOptions, now: Instant) {
        self.me = me
        self.cluster = cluster
        quorum = cluster.count / 2 + 1
        finalizeWait = options.finalizeWait
        maxInterval = max(options.maxNotificationInterval, options.finalizeWait)
        self.ownVote = ownVote
        self.round = round
        proposal = ownVote
        received = Array(repeating: nil, count: cluster.count)
        outOfElection = Array(repeating: nil, count: cluster.count)
        interval = options.finalizeWait
        resendAt = now + interval
        received[me.index] = ownVote
    }

    /// The final wait only listens, as ZooKeeper's does: a re-send would prolong other nodes' waits.
    var nextDeadline: Instant { finalizeAt ?? resendAt }

    var notification: Notification { Notification(vote: proposal, round: round, state: .looking) }

    /// Sends the current vote to every other node; the next re-send is due `interval` later.
    private mutating func broadcast(at now: Instant, into out: inout Effects<Zab>) {
        for peer in cluster where peer != me { out.send(.notification(notification), to: peer) }
        resendAt = now + interval
    }

    /// A quorum agreeing already (a one-node cluster) starts the final wait at once.
    mutating func start(at now: Instant, into out: inout Effects<Zab>) {
        broadcast(at: now, into: &out)
        checkQuorum(at: now)
    }

    /// Handles a peer's notification; returns the elected vote (and the round it was elected in)
    /// when the election is decided by nodes already out of it.
    mutating func receive(_ n: Notification, from peer: NodeID, at now: Instant, into out: inout Effects<Zab>) -> (vote: Vote, round: UInt64)? {
        switch n.state {
        case .looking:
            if n.round > round {
                round = n.round
                received = Array(repeating: nil, count: cluster.count)
                proposal = n.vote.beats(ownVote) ? n.vote : ownVote
                finalizeAt = nil
                broadcast(at: now, into: &out)
            } else if n.round < round {
                // An old round: tell the sender where the election is (ZooKeeper's WorkerReceiver).
                out.send(.notification(notification), to: peer)
                return nil
            } else if n.vote.beats(proposal) {
                // A better vote ends the final wait (ZooKeeper's `totalOrderPredicate` in it).
                proposal = n.vote
                finalizeAt = nil
                broadcast(at: now, into: &out)
            }
            received[peer.index] = n.vote
            received[me.index] = proposal
            checkQuorum(at: now)
            return nil
        case .following, .leading:
            outOfElection[peer.index] = n
            if n.round == round {
                received[peer.index] = n.vote
                if count(received, agreeingWith: n.vote) >= quorum, leaderConfirmed(n.vote.leader, round: n.round) { return (n.vote, round) }
            }
            // ZooKeeper ≥ 3.5 compares these votes by leader and epoch only: their zxids date from
            // elections that may have happened at different times.
            let agreeing = outOfElection.reduce(0) { $0 + ($1.map { $0.vote.leader == n.vote.leader && $0.vote.epoch == n.vote.epoch ? 1 : 0 } ?? 0) }
            guard agreeing >= quorum, n.vote.leader != me else { return nil }
            guard leaderConfirmed(n.vote.leader, round: n.round) else {
                // A quorum follows it, but its own answer was lost: ask it now rather than after
                // the next re-send (which backs off to seconds).
                out.send(.notification(notification), to: n.vote.leader)
                return nil
            }
            round = n.round
            return (n.vote, n.round)
        }
    }

    /// Handles a timer: the final wait ending decides; otherwise, once due, the vote is re-sent.
    mutating func tick(at now: Instant, into out: inout Effects<Zab>) -> Vote? {
        if let finalizeAt {
            guard now >= finalizeAt else { return nil }
            self.finalizeAt = nil
            return proposal
        }
        if now >= resendAt {
            interval = min(interval * 2, maxInterval)
            broadcast(at: now, into: &out)
        }
        return nil
    }

    private mutating func checkQuorum(at now: Instant) {
        if finalizeAt == nil, count(received, agreeingWith: proposal) >= quorum { finalizeAt = now + finalizeWait }
    }

    private func count(_ votes: [Vote?], agreeingWith vote: Vote) -> Int {
        votes.reduce(0) { $0 + ($1 == vote ? 1 : 0) }
    }

    /// ZooKeeper's `checkLeader`: follow another node only if it says itself that it leads; lead
    /// only if the decision was taken in this node's own round (never on the word of nodes still
    /// following this node from an earlier election).
    private func leaderConfirmed(_ leader: NodeID, round: UInt64) -> Bool {
        if leader == me { return round == self.round }
        return outOfElection[leader.index]?.state == .leading
    }
}
