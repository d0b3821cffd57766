import ConformanceSuite
import Testing

/// The shared conformance suite (Experiments/conformance/*.json list both variants).
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
    @Test func syncReads() {
        let failures = Conformance.run(backend: "zab[read=sync]", promises: [.linearizable, .durable, .convergent, .liveAfterHeal, .invariantsHold],
                                       randomSeeds: 4)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }
}
