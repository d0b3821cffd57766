import ConsensusCore

/// Sentinel-style failover, run by the nodes themselves: a node that has lost its primary asks for
/// votes in a new epoch; a majority of nodes that also lost it elects it to lead the failover; it
/// promotes the voter with the highest replication offset (ties: the lowest id) under that epoch.
extension PrimaryBackup {
    /// One failover attempt led by this node.
    struct Election {
        var epoch: UInt64
        /// Votes are collected until everyone but the failed primary answered, or until then.
        var windowEnd: Instant
        var windowOpen = true
        /// Without a promotion by then, a new attempt in a new epoch.
        var retryAt: Instant
        var answered: [NodeID]
        var granted: [(node: NodeID, offset: Int)]
    }

    /// When a backup that keeps not hearing its primary starts a failover.
    var failoverAt: Instant {
        max(lastHeard + options.downAfter + failoverJitter, failoverNotBefore)
    }

    mutating func drawJitter() -> TimeSpan {
        random.duration(in: .zero...(options.downAfter / 2))
    }

    /// Sentinel: a new epoch, our own vote, then ask everyone. Persisted before the requests leave, so
    /// a restart cannot vote twice in the epoch.
    mutating func startElection(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        hard.currentEpoch += 1
        hard.votedEpoch = hard.currentEpoch
        hard.votedFor = id
        saveHardState(into: &out)
        failoverJitter = drawJitter()
        election = Election(epoch: hard.currentEpoch, windowEnd: now + options.heartbeat,
                            retryAt: now + options.failoverTimeout + failoverJitter,
                            answered: [id], granted: [(id, offset)])
        become(.candidate, into: &out)
        let request = VoteRequest(epoch: hard.currentEpoch, config: hard.config)
        for peer in cluster where peer != id { out.send(.voteRequest(request), to: peer) }
        decideIfElected(at: now, into: &out)
    }

    /// A node votes for the first candidate that asks in an epoch, and only if it has lost the
    /// primary too (Sentinel's down check): a node that still hears a primary never helps depose it,
    /// and a primary never votes against itself.
    mutating func receive(_ request: VoteRequest, from candidate: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        learn(request.config, at: now, into: &out)
        var changed = false
        if request.epoch > hard.currentEpoch {
            hard.currentEpoch = request.epoch
            changed = true
        }
        let grant = request.epoch == hard.currentEpoch
            && (hard.votedEpoch < request.epoch || hard.votedFor == candidate)
            && role != .primary && !hearsPrimary(at: now)
            && !hard.config.supersedes(request.config)
        if grant {
            lastGrant = (request.epoch, offset)
            if hard.votedEpoch != request.epoch {
                hard.votedEpoch = request.epoch
                hard.votedFor = candidate
                changed = true
            }
            // Give the candidate time to finish before trying ourselves, plus a random delay as
            // Sentinel adds to every failover start (SENTINEL_MAX_DESYNC): without it every voter
            // of an attempt that failed tries again at the same instant, each votes for itself,
            // and the split repeats every `failoverTimeout` (hunt seed 1453: eight nodes in two
            // groups of four, taking turns for seconds).
            failoverNotBefore = now + options.failoverTimeout + drawJitter()
            if role == .candidate {
                election = nil
                become(.backup, into: &out)
            }
        }
        if changed { saveHardState(into: &out) }
        out.send(.vote(Vote(epoch: hard.currentEpoch, granted: grant, config: hard.config, offset: offset)), to: candidate)
    }

    mutating func receive(_ vote: Vote, from voter: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        if learn(vote.config, at: now, into: &out) { return }
        if vote.epoch > hard.currentEpoch {
            hard.currentEpoch = vote.epoch
            saveHardState(into: &out)
        }
        guard role == .candidate, let current = election, vote.epoch == current.epoch, !current.answered.contains(voter) else { return }
        election?.answered.append(voter)
        if vote.granted { election?.granted.append((voter, vote.offset)) }
        decideIfElected(at: now, into: &out)
    }

    /// With a majority, once everyone but the failed primary has answered (or the window closed):
    /// promote the most up-to-date voter, as Sentinel picks the replica with the highest offset.
    mutating func decideIfElected(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        guard let current = election, current.granted.count >= majority else { return }
        let waitingFor = cluster.count - current.answered.count - (current.answered.contains(hard.config.primary) ? 0 : 1)
        guard waitingFor <= 0 || !current.windowOpen else { return }
        // Planted bug `promote-stale-backup` ranks voters by id alone: the promoted backup may lack
        // writes another one holds, and every backup then resynchronises from it, dropping them.
        let best = current.granted.max { a, b in
            options.bug != .promoteStaleBackup && a.offset != b.offset ? a.offset < b.offset : a.node > b.node
        }!
        let highest = current.granted.map(\.offset).max()!
        out.emit(.note(kind: "failover", detail: "epoch \(current.epoch): \(current.granted.count) votes; promoting \(best.node) at offset \(best.offset)"))
        election = nil
        if best.node == id {
            checkPromotion(epoch: current.epoch, voted: best.offset, highest: highest, into: &out)
            promote(epoch: current.epoch, at: now, into: &out)
        } else {
            out.send(.promote(epoch: current.epoch, highest: highest), to: best.node)
            // Wait for the new primary; if the promotion was lost, try again after `downAfter`.
            lastHeard = now
            become(.backup, into: &out)
        }
    }

    mutating func receivePromote(epoch: UInt64, highest: Int, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        guard role != .primary, Configuration(epoch: epoch, primary: id).supersedes(hard.config) else { return }
        if let grant = lastGrant, grant.epoch == epoch { checkPromotion(epoch: epoch, voted: grant.offset, highest: highest, into: &out) }
        promote(epoch: epoch, at: now, into: &out)
    }

    /// The node promoted in `epoch` held, when it voted, less than some counted voter reported:
    /// the failover broke Sentinel's rule (promote the most up-to-date replica), and every backup
    /// will resynchronise from a history without writes one of them held. The promoted node
    /// checks it, against the highest offset its candidate counted (`PROMOTE` carries it).
    func checkPromotion(epoch: UInt64, voted: Int, highest: Int, into out: inout Effects<PrimaryBackup>) {
        guard voted < highest else { return }
        out.emit(.violation(SafetyViolation(.historyBeyondLeader,
                                            "\(id) promoted in epoch \(epoch) at offset \(voted), though a voter it counted was at offset \(highest)")))
    }

    /// Becomes primary under `epoch`, starting a new history that continues ours (Redis: a promoted
    /// replica keeps its old replication ID as `replid2`, valid up to its offset).
    mutating func promote(epoch: UInt64, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        hard.currentEpoch = max(hard.currentEpoch, epoch)
        hard.config = Configuration(epoch: epoch, primary: id)
        hard.previousID = hard.replicationID
        hard.previousEnd = offset
        hard.replicationID = hard.config
        saveHardState(into: &out)
        acknowledgeOwnConfiguration(into: &out)
        election = nil
        peers = Array(repeating: Peer(), count: cluster.count)
        held.clear()
        early.clear()
        releasedOffset = offset
        become(.primary, into: &out)
        heartbeat(at: now, into: &out)
    }

    /// Sentinel's configuration propagation: a node adopts any configuration newer than its own,
    /// from whoever mentions it. A primary that learns of a newer one has been replaced: it becomes a
    /// backup of the new primary. Returns whether the configuration changed.
    @discardableResult
    mutating func learn(_ reported: Configuration, at now: Instant, into out: inout Effects<PrimaryBackup>) -> Bool {
        guard reported.supersedes(hard.config) else { return false }
        hard.config = reported
        hard.currentEpoch = max(hard.currentEpoch, reported.epoch)
        saveHardState(into: &out)
        // A grace period to hear from the new primary before suspecting it.
        lastHeard = now
        psyncSentAt = nil
        early.clear()
        election = nil
        held.clear()
        become(.backup, into: &out)
        return true
    }
}
