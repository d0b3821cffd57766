import Foundation
import ConsensusCore
import Lab
import Simulator
import Testing

/// Every backend meets the same client operations at the same virtual times and the same faults.
@Suite struct IdenticalScheduleTests {
    let text = """
    {"version": 1, "name": "same", "nodes": 5, "duration": "3s", "quiescence": "500ms", "seeds": [4],
     "backends": ["unreplicated", "primary-backup"],
     "workload": {"clientsPerNode": 1, "mode": "open", "rate": 60, "timeout": "300ms"},
     "network": {"loss": 0.05},
     "faults": [{"at": "1s", "partition": [[1, 2], [3, 4, 5]]}, {"at": "1500ms", "crash": 4}, {"at": "2s", "heal": true},
                {"at": "2200ms", "restart": "crashed"}],
     "nemesis": {"faults": ["pause", "flaky", "slow"], "interval": ["200ms", "400ms"], "length": ["100ms", "300ms"]}}
    """

    struct Invocation: Hashable {
        var node: NodeID
        var operation: String
        var key: String
        var value: String?
        var invoke: Instant
    }

    @Test func openLoopInvocationsAndTimedFaultsAreIdentical() throws {
        let scenarios = try ScenarioFile.parse(text, file: "same.json")
        let outputs = Runner.run(Runner.plan(experiment: "same", scenarios: scenarios))
        #expect(outputs.count == 2)
        let invocations = outputs.map { output in
            output.result.history.map { Invocation(node: $0.node, operation: $0.command.name, key: $0.command.key, value: $0.command.writtenValue, invoke: $0.invoke) }
        }
        #expect(invocations[0].count > 500)
        #expect(invocations[0] == invocations[1])
        // Outcomes differ: the protocols really did answer differently.
        #expect(outputs[0].result.history.map(\.outcome) != outputs[1].result.history.map(\.outcome))
        // The same steps at the same times; a role target ("pause leader → n3") may hit another node.
        let faults = outputs.map { output in output.result.events.filter(\.event.isFault).map(Self.withoutTargets) }
        #expect(faults[0].count >= 8)
        #expect(faults[0] == faults[1])
        let explicit = outputs.map { $0.result.events.filter { Self.isExplicit($0.event) } }
        #expect(explicit[0] == explicit[1])
    }

    /// A step that waits for a role (here: a leader Raft has not elected yet) must not shift the
    /// random draws of the steps after it: the halves and the random target come out the same.
    @Test func waitingForARoleDoesNotShiftLaterRandomSteps() throws {
        let scenarios = try ScenarioFile.parse("""
            {"version": 1, "name": "wait", "nodes": 5, "duration": "3s", "seeds": [3], "backends": ["unreplicated", "raft"],
             "workload": {"clientsPerNode": 1, "mode": "open", "rate": 20},
             "faults": [{"at": "10ms", "partition": {"shape": "majority-minority", "leader": "minority"}},
                        {"at": "1s", "heal": true}, {"at": "1500ms", "partition": "halves"},
                        {"at": "2s", "heal": true}, {"at": "2200ms", "crash": "random"}]}
            """, file: "wait.json")
        let outputs = Runner.run(Runner.plan(experiment: "wait", scenarios: scenarios))
        let later = outputs.map { output in output.result.events.filter { $0.event.isFault && $0.time >= Instant.zero + .milliseconds(1500) } }
        #expect(later[0].count == 4, "halves, heal, crash, the heal before quiescence")
        #expect(later[0] == later[1])
    }

    /// A fault event without the nodes it hit: a role target ("pause leader") may hit another node
    /// in each backend.
    static func withoutTargets(_ record: EventRecord) -> EventRecord {
        guard case .fault(let action, _, let reachability) = record.event else { return record }
        return EventRecord(time: record.time, node: record.node, event: .fault(action, targets: [], reachability: reachability))
    }

    /// A fault step whose nodes do not depend on what the protocol did (no leader, coordinator or
    /// `affected` among its targets): it hits the same nodes in every backend.
    static func isExplicit(_ event: SimulationEvent) -> Bool {
        guard case .fault(let action, _, _) = event else { return false }
        let refs: [NodeRef]
        switch action {
        case .partition(let groups): refs = groups.flatMap { $0 }
        case .partitionShape(.isolate(let ref)): refs = [ref]
        case .partitionShape(.majorityMinority(let side)): refs = side == nil ? [] : [.leader]
        case .oneWay(let from, let to), .drop(_, let from, let to): refs = from + to
        case .crash(let ref), .restart(let ref), .pause(let ref), .resume(let ref), .slow(let ref, _), .clockRate(let ref, _), .inject(let ref, _),
             .disk(let ref, _):
            refs = [ref]
        case .network(let change): refs = change.nodes ?? []
        case .partitionShape, .heal, .restoreNetwork: refs = []
        }
        return refs.allSatisfy { ![.leader, .follower, .coordinator, .affected].contains($0) }
    }
}
