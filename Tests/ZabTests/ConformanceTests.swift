import ConformanceSuite
import Testing

/// The shared conformance suite (Experiments/conformance/*.json list every variant).
@Suite struct ConformanceTests {
    /// ZooKeeper's default reads are answered from the local replica: sequentially consistent,
    /// not linearizable (a follower behind the leader, or cut off from it, answers with old
    /// values). Writes are still durable (logged on a quorum before anyone answers) and replicas
    /// converge (one primary order). After every heal the ensemble settles on one established
    /// leader that every node follows. No node ever finds its own invariants broken.
    @Test func localReads() {
        let failures = Conformance.run(backend: "zab", promises: [.durable, .convergent, .liveAfterHeal, .invariantsHold], randomSeeds: 4)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    /// With a sync through the leader before each read (confirmed by a quorum), every operation
    /// takes effect between its invocation and its answer: linearizable, durable, convergent.
    /// The second variant snapshots every 50–100 transactions, keeps only 20 for DIFF and sends
    /// SNAP in chunks of 64 bytes, so that many-chunk SNAPs meet every fault of the nemesis.
    @Test(arguments: ["zab[read=sync]", "zab[read=sync;snapCount=100;commitLogCount=20;snapshotChunk=64]"])
    func syncReads(backend: String) {
        let failures = Conformance.run(backend: backend, promises: [.linearizable, .durable, .convergent, .liveAfterHeal, .invariantsHold],
                                       randomSeeds: 4)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }
}
