import ConsensusCore
import Raft
import Simulator
import Testing

/// A fault triggered inside a step never steps another node from within it. It used to: a
/// `reject` fired by the leader's role event injected into a follower synchronously, which re-entered
/// `step` on the simulator's one effects buffer, so the new leader's first AppendEntries were replaced
/// by the follower's (empty) effects and never sent. Each node now has its own buffer in its host,
/// and an injected fault is an input event of its own.
@Suite struct NestedStepTests {
    @Test func aRejectTriggeredByTheLeadersRoleLeavesItsMessagesAlone() throws {
        var config = SimulationConfig(nodes: 3, seed: 7, duration: .seconds(2), quiescence: .zero)
        config.workload.clientsPerNode = 0
        config.faults = [FaultStep(on: Trigger(.role(.leader)), .inject(.follower, .reject(phase: nil, count: 1)))]
        let simulation = Simulation<Raft>(config: config)
        var sentInStep: [(from: NodeID, to: NodeID, kind: String)] = []
        var firstLeaderStep: (leader: NodeID, sent: [(from: NodeID, to: NodeID, kind: String)])?
        simulation.afterSend = { from, to, message, _ in sentInStep.append((from, to, message.kind.rawValue)) }
        simulation.afterStep = { simulation, node in
            defer { sentInStep.removeAll() }
            guard firstLeaderStep == nil, simulation.backend(node)?.leadership?.role == .leader else { return }
            firstLeaderStep = (node, sentInStep)
        }
        simulation.run(for: .seconds(1))
        let step = try #require(firstLeaderStep)
        #expect(step.sent.allSatisfy { $0.from == step.leader }, "only the leader's own messages leave in its step")
        let peers = Set(step.sent.filter { $0.kind == "APPEND_ENTRIES" }.map(\.to))
        #expect(peers == Set(simulation.cluster.filter { $0 != step.leader }), "a new leader asserts itself to every peer at once (Raft §5.2)")
        let fired = simulation.events.contains { record in
            if case .fault(.inject, _, _) = record.event { true } else { false }
        }
        #expect(fired, "the trigger fired")
    }
}
