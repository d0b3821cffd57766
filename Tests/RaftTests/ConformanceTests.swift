import ConformanceSuite
import Testing

/// The shared conformance suite (Experiments/conformance/*.json) with the promises Raft makes.
@Suite struct ConformanceTests {
    /// ReadIndex, log reads and leases (the conformance nemesis never skews clocks) are
    /// linearizable; every acknowledged write is on a majority's synced log, so none is lost even
    /// when a majority crashes; replicas converge once faults heal; atomicity is trivially true
    /// (one command per operation, no transactions).
    @Test(arguments: ["raft", "raft[read=log]", "raft[read=lease]"])
    func linearizableVariants(backend: String) {
        let failures = Conformance.run(backend: backend, promises: .all, randomSeeds: Scale.count(4, full: 200))
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    /// Reads from any node's own state machine are not linearizable (stale reads are the point
    /// of this mode); writes still go through the log, so durability and convergence hold.
    @Test func unsafeLocalReads() {
        let failures = Conformance.run(backend: "raft[read=unsafeLocal]", promises: [.durable, .convergent, .atomic],
                                       randomSeeds: Scale.count(4, full: 200))
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }
}
