import ConformanceSuite
import Testing

/// The shared conformance suite (Experiments/conformance/*.json) with the promises Raft makes.
@Suite struct ConformanceTests {
    /// ReadIndex, log reads and leases (the conformance nemesis never skews clocks) are
    /// linearizable; every acknowledged write is on a majority's synced log, so none is lost even
    /// when a majority crashes; replicas converge once faults heal; atomicity is trivially true
    /// (one command per operation, no transactions); once faults heal, every node follows one
    /// leader of the latest term; no node ever reports two leaders of a term or an overwritten
    /// committed entry (`.all` includes it). Leases rely on bounded clock drift, so under the heavy nemesis
    /// (which skews clocks) the lease variant promises everything but linearizability.
    /// The snapshot variant snapshots every 100–150 entries and sends snapshots in chunks of 64
    /// bytes, so that InstallSnapshot transfers of many chunks meet every fault of the nemesis.
    /// (The default variant gets more random seeds by default; all get the files' full counts with `CONLAB_FULL=1`.)
    @Test(arguments: [("raft", 4), ("raft[read=log]", 2), ("raft[read=lease]", 2), ("raft[snapshotThreshold=100;snapshotChunk=64]", 2)])
    func linearizableVariants(backend: String, seeds: Int) {
        let promises: Conformance.Promises = Conformance.Promises.all.union(.liveAfterHeal)
        let failures = Conformance.run(backend: backend, promises: promises,
                                       underClockDrift: backend == "raft[read=lease]" ? promises.subtracting(.linearizable) : nil,
                                       randomSeeds: seeds)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    /// Reads from any node's own state machine are not linearizable (stale reads are the point
    /// of this mode); writes still go through the log, so durability, convergence and Raft's own
    /// invariants hold.
    @Test func unsafeLocalReads() {
        let failures = Conformance.run(backend: "raft[read=unsafeLocal]", promises: [.durable, .convergent, .atomic, .liveAfterHeal, .invariantsHold],
                                       randomSeeds: 2)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }
}
