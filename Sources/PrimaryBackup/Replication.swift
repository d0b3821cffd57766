import ConsensusCore
import KVStore

/// Redis replication: the primary streams its history; backups follow it by offset and replication
/// ID, asking for a partial resync (PSYNC) when they miss writes and getting a full one (FULLRESYNC)
/// when the backlog no longer reaches back to them or their history is not the primary's.
extension PrimaryBackup {
    // MARK: Primary

    /// Pings every other node, backups or not: a stale primary or a node that lost track learns of
    /// this configuration from it. Carries no writes (held writes stay held); a backup that sees it
    /// is behind `prevOffset` asks for the rest.
    mutating func heartbeat(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        heartbeatAt = now + options.heartbeat
        for peer in cluster where peer != id {
            let prevOffset = peers[peer.index].streaming ? peers[peer.index].next : releasedOffset
            out.send(.replicate(slice(after: prevOffset, writes: [])), to: peer, departing: streamDeparture)
        }
    }

    /// When the stream (REPLICATE, heartbeats included, and FULLRESYNC) may leave: at once, as Raft's
    /// AppendEntries and ZAB's PROPOSAL do, once the configuration that names this history is durable.
    ///
    /// Held for the primary's own sync, the stream could carry no more writes a second
    /// than the disk completes syncs, one per write in the simulator: a primary accepting writes
    /// faster (hunt seed 162: 780 a second, 2 ms syncs) streamed them ever later — four seconds
    /// behind after eight — so backups could not converge in the quiescence, and, its backlog being
    /// counted from its own offset, not from what had left, every PSYNC became a full resync. Redis
    /// never ties its stream to one sync per write: it feeds replicas from the in-memory replication
    /// buffer as commands execute, and even under `appendfsync always` one fsync per event-loop
    /// iteration covers all its writes. The stream promises nothing about the primary's disk (the
    /// client's reply still waits for it): a backup may hold a write the primary loses in a crash, and
    /// the primary then restarts as a backup, never primary of this history again; the failover
    /// promotes the highest offset. That holds only once the configuration is durable: a promotion
    /// lost in a crash could be made again (a duplicated PROMOTE, a first start) and restart the same
    /// history with other writes. Until the node's own acknowledgement says so, the stream waits.
    var streamDeparture: Departure { durableConfig == hard.config ? .atOnce : .afterWrites }

    /// The primary's own REPLCONF ACK, delivered back once its configuration is on disk.
    func acknowledgeOwnConfiguration(into out: inout Effects<PrimaryBackup>) {
        out.send(.ack(position), to: id)
    }

    /// Sends a streaming backup every released write it has not been sent yet.
    mutating func flush(to peer: NodeID, into out: inout Effects<PrimaryBackup>) {
        let next = peers[peer.index].next
        guard peers[peer.index].streaming, next < releasedOffset else { return }
        guard backlog.canServe(after: next) else { return fullResync(peer, into: &out) }
        let writes = backlog.writes(after: next).prefix(releasedOffset - next)
        out.send(.replicate(slice(after: next, writes: Array(writes))), to: peer, departing: streamDeparture)
        peers[peer.index].next = releasedOffset
    }

    mutating func flushAll(into out: inout Effects<PrimaryBackup>) {
        for peer in cluster where peer != id { flush(to: peer, into: &out) }
    }

    /// After a write: stream it now, or hold it for the replication lag.
    mutating func replicateNewWrite(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        if options.replicationLag == .zero {
            releasedOffset = offset
            flushAll(into: &out)
        } else {
            held.hold(offset, until: now + options.replicationLag)
        }
    }

    func slice(after prevOffset: Int, writes: [StampedRequest]) -> Replicate {
        Replicate(config: hard.config, previousID: hard.previousID, previousEnd: hard.previousEnd, prevOffset: prevOffset, writes: writes)
    }

    /// The whole state, held writes included (a snapshot cannot leave part of it out).
    mutating func fullResync(_ peer: NodeID, into out: inout Effects<PrimaryBackup>) {
        let resync = FullResync(config: hard.config, previousID: hard.previousID, previousEnd: hard.previousEnd, offset: offset, data: store.snapshot())
        out.send(.fullResync(resync), to: peer, departing: streamDeparture)
        peers[peer.index].streaming = true
        peers[peer.index].next = offset
    }

    /// A backup's REPLCONF ACK (`resend: false`) or PSYNC (`resend: true`). Either may also tell this
    /// node that it is a stale primary. Our own ACK says that our configuration is durable.
    mutating func receiveSync(_ position: SyncPosition, from peer: NodeID, resend: Bool, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        if peer == id {
            durableConfig = position.config
            return
        }
        if learn(position.config, at: now, into: &out) {
            requestSync(at: now, into: &out)
            return
        }
        guard role == .primary, position.config == hard.config else { return }
        let continuesOurs = position.offset <= offset && hard.continues(position.history, upTo: position.offset)
        if resend {
            guard continuesOurs, backlog.canServe(after: position.offset) else { return fullResync(peer, into: &out) }
            peers[peer.index].streaming = true
            peers[peer.index].next = position.offset
            flush(to: peer, into: &out)
        } else {
            guard continuesOurs else {
                // The backup will see that our writes do not continue its data and ask for a resync.
                peers[peer.index].streaming = false
                return
            }
            peers[peer.index].lastAck = now
            if !peers[peer.index].streaming, backlog.canServe(after: position.offset) {
                peers[peer.index].streaming = true
                peers[peer.index].next = position.offset
                flush(to: peer, into: &out)
            }
        }
    }

    /// Backups that acknowledged within `minReplicasMaxLag` (Redis's "good replicas").
    func recentlyAcknowledged(at now: Instant) -> Int {
        peers.reduce(0) { count, peer in
            guard peer.streaming, let ack = peer.lastAck, now <= ack + options.minReplicasMaxLag else { return count }
            return count + 1
        }
    }

    // MARK: Backup

    mutating func receive(_ replicate: Replicate, from sender: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        guard acceptPrimary(replicate.config, from: sender, at: now, into: &out) else { return }
        if hard.replicationID != replicate.config {
            // Redis's PSYNC rule, applied by the backup: the primary's history continues ours if our
            // ID is its previous one and we are not past the point where they part.
            guard hard.replicationID != nil, hard.replicationID == replicate.previousID, offset <= replicate.previousEnd else {
                return requestSync(at: now, into: &out)
            }
            hard.replicationID = replicate.config
            hard.previousID = replicate.previousID
            hard.previousEnd = replicate.previousEnd
            saveHardState(into: &out)
        }
        guard replicate.prevOffset <= offset else {
            early.hold(replicate)
            return requestSync(at: now, into: &out)
        }
        appendNew(replicate, into: &out)
        while let next = early.takeFirst(reachedBy: offset, of: hard.replicationID) { appendNew(next, into: &out) }
    }

    /// The writes of a slice this node does not hold yet; a duplicate or an overtaken slice has none.
    mutating func appendNew(_ slice: Replicate, into out: inout Effects<PrimaryBackup>) {
        let known = offset - slice.prevOffset
        guard known < slice.writes.count else { return }
        appendReplicated(slice.writes[known...], into: &out)
    }

    /// Applies the primary's writes at the primary's stamps, so that sessions expire here where
    /// they expired there.
    mutating func appendReplicated(_ writes: ArraySlice<StampedRequest>, into out: inout Effects<PrimaryBackup>) {
        out.persist(.append(firstIndex: offset + 1 + storageBase, entries: Array(writes)))
        for write in writes {
            _ = store.apply(write.request, at: write.stamp)
            backlog.append(write)
        }
        offset += writes.count
    }

    /// Replaces this node's state with the primary's. The history is marked unknown before the
    /// snapshot is stored and named after: a crash between the two (with unsynced storage) leaves a
    /// node that knows it needs another full resync, never one that believes stale data continues a
    /// history.
    mutating func receive(_ resync: FullResync, from sender: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        guard acceptPrimary(resync.config, from: sender, at: now, into: &out) else { return }
        if hard.replicationID == resync.config, offset >= resync.offset { return }  // a duplicate or an overtaken one
        let restored: KVStore
        do { restored = try KVStore(snapshot: resync.data, sessions: options.sessions) } catch {
            out.emit(.note(kind: "resync-refused", detail: "snapshot from \(sender) does not decode: \(error)"))
            return
        }
        hard.replicationID = nil
        saveHardState(into: &out)
        // A fresh storage index, past everything stored: storage ignores a snapshot older than the
        // one it has, and the new offset may well be lower than the old one.
        let index = offset + storageBase + 1
        out.persist(.snapshot(Snapshot(lastIndex: index, lastTerm: UInt64(resync.offset), data: resync.data)))
        storageBase = index - resync.offset
        store = restored
        offset = resync.offset
        backlog.reset(after: offset)
        hard.replicationID = resync.config
        hard.previousID = resync.previousID
        hard.previousEnd = resync.previousEnd
        saveHardState(into: &out)
        psyncSentAt = nil
        early.clear()
        out.emit(.note(kind: "full-resync", detail: "from \(sender) at offset \(offset)"))
        out.send(.ack(position), to: sender)
    }

    /// Whether a REPLICATE or FULLRESYNC comes from the primary this node follows (after adopting
    /// its configuration if newer). A stale primary is answered with our position, which names the
    /// newer configuration; it then steps down.
    mutating func acceptPrimary(_ config: Configuration, from sender: NodeID, at now: Instant, into out: inout Effects<PrimaryBackup>) -> Bool {
        if hard.config.supersedes(config) {
            out.send(.ack(position), to: sender)
            return false
        }
        learn(config, at: now, into: &out)
        guard sender == config.primary, sender != id else { return false }
        lastHeard = now
        if role == .candidate {
            // The primary is alive after all.
            election = nil
            become(.backup, into: &out)
        }
        return true
    }

    /// Asks the primary for what follows our position, at most once per heartbeat (a burst of
    /// REPLICATEs while a resync is on its way must not each start another).
    mutating func requestSync(at now: Instant, into out: inout Effects<PrimaryBackup>) {
        guard role == .backup, hard.config.primary != id else { return }
        if let sent = psyncSentAt, now < sent + options.heartbeat { return }
        psyncSentAt = now
        out.send(.psync(position), to: hard.config.primary)
    }
}
