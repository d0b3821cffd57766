import ConsensusCore
import PrimaryBackup
import Raft
import Simulator
import Testing
import ThreePhaseCommit
import TwoPhaseCommit
import Unreplicated
import Zab

/// Every message the backends really send, through crashes, restarts and partitions, survives the
/// wire: a generator only covers the values its author thought of; this covers the ones the
/// protocols produce (snapshots and their chunks, conflict hints, sync modes, empty heartbeats).
@Suite struct SimulatedTrafficTests {
    static let faults: [FaultStep] = [
        FaultStep(at: .zero + .seconds(1), .crash(.leader)),
        FaultStep(at: .zero + .milliseconds(1500), .inject(.id(NodeID(2)), .reject(phase: nil, count: 3))),
        FaultStep(at: .zero + .seconds(2), .restart(.affected)),
        FaultStep(at: .zero + .milliseconds(2500), .partitionShape(.majorityMinority(leaderIn: .minority))),
        FaultStep(at: .zero + .milliseconds(3500), .heal),
        FaultStep(at: .zero + .milliseconds(3600), .crash(.coordinator)),
        FaultStep(at: .zero + .milliseconds(3700), .crash(.follower)),
        FaultStep(at: .zero + .milliseconds(4600), .restart(.affected)),
    ]

    func check<Backend: LabBackend>(_: Backend.Type, options: Backend.Options = .init(), expecting kinds: Int)
        where Backend.Message: Equatable {
        let config = SimulationConfig(nodes: 5, seed: 3, duration: .seconds(6), quiescence: .seconds(1), faults: Self.faults)
        let simulation = Simulation<Backend>(config: config, options: options)
        var failures = Failures()
        var seen: Set<Backend.Message.Kind> = []
        var messages = 0
        simulation.afterSend = { _, _, message, _ in
            messages += 1
            seen.insert(message.kind)
            roundTrip(message, &failures)
        }
        _ = simulation.run()
        #expect(messages > 1000)
        failures.expectNone()
        #expect(seen.count >= kinds, "kinds sent: \(seen.map(\.rawValue).sorted())")
    }

    @Test func raft() {
        var options = RaftOptions()
        options.snapshotThreshold = 40
        options.snapshotChunk = 64  // snapshots travel in several chunks
        check(Raft.self, options: options, expecting: 10)
    }

    @Test func zab() {
        var options = ZabOptions()
        options.snapCount = 40
        options.commitLogCount = 20
        options.snapshotChunk = 64
        check(Zab.self, options: options, expecting: 13)
    }

    @Test func twoPhaseCommit() { check(TwoPhaseCommit.self, expecting: 8) }
    @Test func threePhaseCommit() { check(ThreePhaseCommit.self, expecting: 10) }

    @Test func primaryBackup() {
        var options = PrimaryBackupOptions()
        options.backlog = 10
        check(PrimaryBackup.self, options: options, expecting: 7)
    }

    @Test func unreplicated() { check(Unreplicated.self, expecting: 2) }
}
