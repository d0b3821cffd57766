import ConsensusCore
import KVStore

/// A `sync` read waiting at the node its client is connected to.
struct PendingRead {
    var request: ClientRequest
    /// Set by the leader's answer: read once everything up to here is applied.
    var zxid: Zxid?
}

/// Clients stay connected to their node, as ZooKeeper's do: it answers reads and forwards writes.
extension Zab {
    mutating func handleClient(_ request: ClientRequest, at now: Instant, into out: inout Effects<Zab>) {
        // ZooKeeper serves clients only once the node has synced with an established leader; a
        // LOOKING node refuses them. No hint: the client must stay on its node.
        guard isServing else {
            out.reply(ClientReply(to: request, .notLeader(hint: nil)))
            return
        }
        if request.command.isRead {
            read(request, at: now, into: &out)
        } else {
            write(request, at: now, into: &out)
        }
    }

    /// A write goes to the leader; this node answers once it commits it (or at once when it has
    /// already applied it: a retry of an answered request).
    mutating func write(_ request: ClientRequest, at now: Instant, into out: inout Effects<Zab>) {
        if let cached = store.cachedReply(for: request) {
            out.reply(ClientReply(to: request, cached))
            return
        }
        // A retry is passed on again (a lost forward must not strand it); the leader proposes a
        // request once, and this node answers it once, when it commits.
        _ = pendingWrites.insert(request)
        switch role {
        case .leading:
            withLeaderSession { node, session in node.propose(request, in: &session, at: now, into: &out) }
        case .following(let session):
            out.send(.request(request), to: session.leader)
        case .starting, .looking, .modifying:
            break
        }
    }

    mutating func read(_ request: ClientRequest, at now: Instant, into out: inout Effects<Zab>) {
        switch options.read {
        case .local:
            out.reply(ClientReply(to: request, .ok(.value(store.read(request.command.key)))))
        case .sync:
            // A retry replaces its earlier copy; reads the client has finished with are dropped.
            pendingReads.removeAll {
                $0.request.client == request.client && ($0.request.sequence == request.sequence || $0.request.sequence <= request.ackedThrough)
            }
            pendingReads.append(PendingRead(request: request))
            switch role {
            case .leading:
                withLeaderSession { node, session in
                    node.leaderSync(for: node.id, client: request.client, sequence: request.sequence, in: &session, at: now, into: &out)
                }
            case .following(let session):
                if let epoch = session.epoch {
                    out.send(.syncRequest(epoch: epoch, client: request.client, sequence: request.sequence), to: session.leader)
                }
            case .starting, .looking, .modifying:
                break
            }
        }
    }

    /// The leader answered a `sync`: the read waits until this node has applied up to `zxid`.
    mutating func syncAnswered(client: ClientID, sequence: UInt64, zxid: Zxid, into out: inout Effects<Zab>) {
        guard let position = pendingReads.firstIndex(where: { $0.request.client == client && $0.request.sequence == sequence }) else { return }
        pendingReads[position].zxid = zxid
        servePendingReads(into: &out)
    }

    mutating func servePendingReads(into out: inout Effects<Zab>) {
        guard !pendingReads.isEmpty else { return }
        var position = 0
        while position < pendingReads.count {
            let pending = pendingReads[position]
            if let zxid = pending.zxid, appliedZxid >= zxid {
                out.reply(ClientReply(to: pending.request, .ok(.value(store.read(pending.request.command.key)))))
                pendingReads.remove(at: position)
            } else {
                position += 1
            }
        }
    }
}
