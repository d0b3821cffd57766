import ConsensusCore
import KVStore

/// The client front end: local reads everywhere, writes at the primary.
extension PrimaryBackup {
    mutating func serve(_ request: ClientRequest, at now: Instant, into out: inout Effects<PrimaryBackup>) {
        if case .get(let key) = request.command {
            // Served from this node's own state, whatever its role: available, possibly stale.
            out.reply(ClientReply(to: request, .ok(.value(store.read(key)))))
            return
        }
        guard role == .primary else {
            out.reply(ClientReply(to: request, .notLeader(hint: primaryHint(at: now))))
            return
        }
        if let cached = store.cachedReply(for: request) {
            out.reply(ClientReply(to: request, cached))
            return
        }
        if options.minReplicasToWrite > 0, recentlyAcknowledged(at: now) < options.minReplicasToWrite {
            // Never logged, never replicated: it will not take effect, so the refusal is definite.
            out.reply(ClientReply(to: request, .rejected(.unavailable)))
            return
        }
        offset += 1
        let write = StampedRequest(request, at: now)
        out.persist(.append(firstIndex: offset + storageBase, entries: [write]))
        backlog.append(write)
        out.reply(ClientReply(to: request, store.apply(request, at: now)))
        out.emit(.committed(offset))
        replicateNewWrite(at: now, into: &out)
    }

    /// Where a backup sends writers: its primary while it hears it, nobody (try again shortly) once
    /// it considers it down.
    func primaryHint(at now: Instant) -> NodeID? {
        hearsPrimary(at: now) ? hard.config.primary : nil
    }

    func hearsPrimary(at now: Instant) -> Bool {
        role == .backup && hard.config.primary != id && now < lastHeard + options.downAfter
    }
}
