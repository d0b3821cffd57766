import ConsensusCore

/// The disk under `fsync: true`: a step's writes become durable when their sync completes (the
/// node's disk serialises syncs, `StorageModel.syncLatency` each), and nothing the node sends
/// leaves before everything it wrote earlier is durable. Outputs computed meanwhile are held and
/// leave with the `release` of the sync they wait for; a crash before it loses the writes and the
/// outputs together, so nothing that depended on a lost write ever escapes.
extension Simulation {
    /// An output held for the disk: delivered at `time` once released.
    struct Held {
        var event: Event
        var time: Instant
        /// The first delivery of a message (a duplicate is a second delivery of the same one): if a
        /// crash drops it, `messagesDropped` counts the message once.
        var countsAsDrop: Bool
    }

    /// Schedules an output of the current step, or holds it while the node waits for its disk.
    func output(_ event: Event, at time: Instant, countsAsDrop: Bool = false) {
        guard let node = holding, nodes[node].waitsForDisk else {
            queue.schedule(event, at: time)
            return
        }
        nodes[node].heldOutputs.append(Held(event: event, time: time, countsAsDrop: countsAsDrop))
        nodes[node].heldTotal += 1
    }

    /// A sync completed: the writes up to `writes` are durable and the outputs up to `outputs`
    /// leave. A node that crashed since lost both (its incarnation moved on).
    func release(_ node: Int, incarnation: Int, writes: Int, outputs: Int) {
        guard nodes[node].incarnation == incarnation else { return }
        sync(node, through: writes)
        let count = outputs - nodes[node].releasedTotal
        guard count > 0 else { return }
        for output in nodes[node].heldOutputs.prefix(count) { queue.schedule(output.event, at: output.time) }
        nodes[node].heldOutputs.removeFirst(count)
        nodes[node].releasedTotal = outputs
    }

    /// Everything the node wrote is synced and everything it held leaves, now: a message the node
    /// sends triggered a fault, and a message leaves only after the writes before it (and after
    /// the outputs before it). "Logged, then crashed before sending" keeps the log entry.
    func releaseEverything(_ node: Int) {
        release(node, incarnation: nodes[node].incarnation, writes: nodes[node].writesApplied, outputs: nodes[node].heldTotal)
    }

    private func sync(_ node: Int, through writes: Int) {
        let count = writes - nodes[node].writesSynced
        guard count > 0 else { return }
        do { try nodes[node].storage.sync(first: count) } catch {
            preconditionFailure("\(Backend.protocolName) node \(cluster[node]): sync failed: \(error)")
        }
        nodes[node].writesSynced = writes
    }

    /// The node crashed: its unsynced writes are gone (the storage dropped them) and so are the
    /// outputs that waited for them.
    func dropHeldOutputs(_ node: Int) {
        counters.messagesDropped += nodes[node].heldOutputs.count { $0.countsAsDrop }
        nodes[node].heldOutputs.removeAll()
        nodes[node].writesApplied = 0
        nodes[node].writesSynced = 0
        nodes[node].heldTotal = 0
        nodes[node].releasedTotal = 0
    }
}
