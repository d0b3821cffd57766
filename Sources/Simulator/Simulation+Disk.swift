import ConsensusCore
import NodeHost
import Storage

/// The simulator's disk plug under `fsync: true`: a step's writes become durable when their sync
/// completes (the node's disk serialises syncs, `StorageModel.syncLatency` each). The rule itself —
/// nothing a node sends leaves before everything it wrote earlier is durable, and a crash loses the
/// writes and the outputs that waited for them together — is the host's (`DurabilityGate`); here
/// an output is a scheduled event with its delivery time, held by the host until its sync's release.
extension Simulation {
    /// An output held for the disk: delivered at `time` once released.
    struct Held {
        var event: Event
        var time: Instant
        /// The first delivery of a message (a duplicate is a second delivery of the same one): if a
        /// crash drops it, `messagesDropped` counts the message once.
        var countsAsDrop: Bool
    }

    /// Schedules an output of the current step, or holds it while the node waits for its disk
    /// (unless it may leave before the node's writes are durable).
    func output(_ event: consuming Event, at time: Instant, countsAsDrop: Bool = false, afterWrites: Bool = true) {
        guard afterWrites, let node = holding, nodes[node].host.mustHold else {
            queue.schedule(event, at: time)
            return
        }
        nodes[node].host.hold(Held(event: event, time: time, countsAsDrop: countsAsDrop))
    }

    /// A sync covering `mark` completes at `time`. A step that wrote nothing and whose outputs
    /// leave when a sync already under way completes waits for that sync: its mark extends the
    /// pending one instead of adding a completion of its own.
    func scheduleRelease(_ node: Int, _ mark: ReleaseMark, at time: Instant) {
        if let last = nodes[node].pendingReleases.last, last.time == time {
            nodes[node].pendingReleases.replaceLast(with: (time, mark))
            return
        }
        nodes[node].pendingReleases.append((time, mark))
        queue.schedule(.release(node: node, incarnation: nodes[node].host.incarnation), at: time)
    }

    /// A sync completed: the writes it covers are durable and the outputs they held leave. A node
    /// that crashed since lost both (the host ignores another incarnation's release).
    ///
    /// The node's acknowledgements of its own writes (a leader's entries, a candidate's vote) that
    /// are due now reach it directly, as etcd's storage-append responses do: the sync's completion
    /// is the event that delivers them, with no second trip through the agenda.
    func release(_ node: Int, incarnation: Int) {
        guard incarnation == nodes[node].host.incarnation, let mark = nodes[node].pendingReleases.popFirst()?.mark else { return }
        let late = overrun(node)
        var own: [Backend.Message] = []
        hostDisk(node) { host throws(StorageError) in
            try host.release(mark, incarnation: incarnation) { output in
                if late == .zero, output.time == now, case .message(node, node, let message) = output.event {
                    own.append(message)
                } else {
                    queue.schedule(output.event, at: output.time + late)
                }
            }
        }
        for message in own { deliver(.input(.receive(from: cluster[node], message: message)), to: node) }
    }

    /// How much longer than the one `syncLatency` the schedule assumed the file engine's disk took
    /// for the syncs since the last release (a slow sync; the extra syncs of a segment rotation or
    /// a snapshot): the outputs this release holds leave that much later, and the disk stays busy
    /// as long. Outputs of a later release may then overtake them, as a network may reorder.
    private func overrun(_ node: Int) -> TimeSpan {
        guard let disk = nodes[node].host.storage.disk else { return .zero }
        let extra = disk.fileSystem.takeSyncLatency() - config.storage.syncLatency
        guard .zero < extra else { return .zero }
        nodes[node].diskFreeAt = max(nodes[node].diskFreeAt, now) + extra
        return extra
    }

    /// Everything the node wrote is synced and everything it held leaves, now: a message the node
    /// sends triggered a fault, and a message leaves only after the writes before it (and after
    /// the outputs before it). "Logged, then crashed before sending" keeps the log entry.
    func releaseEverything(_ node: Int) {
        hostDisk(node) { host throws(StorageError) in
            try host.releaseEverything { output in queue.schedule(output.event, at: output.time) }
        }
    }

    /// Runs a sync on the node's host. Neither engine can fail to sync what it accepted: the memory
    /// has no I/O, and the simulated file system's faults corrupt bytes rather than fail calls.
    private func hostDisk(_ node: Int, _ body: (inout Host) throws(StorageError) -> Void) {
        do { try body(&nodes[node].host) } catch {
            preconditionFailure("\(Backend.protocolName) node \(cluster[node]): sync failed: \(error)")
        }
    }

    /// The node crashed: its unsynced writes are gone and so are the outputs that waited for them.
    /// Returns how many storage operations were lost.
    func crashHost(_ node: Int) -> Int {
        let (lost, dropped) = nodes[node].host.crash()
        nodes[node].pendingReleases = FIFOQueue()
        counters.messagesDropped += dropped.count { $0.countsAsDrop }
        return lost
    }
}
