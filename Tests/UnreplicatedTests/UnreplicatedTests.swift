import ConformanceSuite
import ConsensusCore
import Simulator
import Testing
import Unreplicated

@Suite struct UnreplicatedTests {
    @Test func conformance() {
        // One machine: linearizable and durable while it is up; front ends hold no replica.
        let failures = Conformance.run(backend: "unreplicated", promises: .all)
        #expect(failures.isEmpty, "\(failures.map(\.description).joined(separator: "\n"))")
    }

    @Test func serverCrashMakesEveryoneUnavailableAndLosesNothingSynced() {
        var config = SimulationConfig(nodes: 3, seed: 4, duration: .seconds(4), quiescence: .seconds(1))
        config.workload.mix = .init(get: 0, put: 1, append: 0, cas: 0, delete: 0)
        config.faults = [FaultStep(at: .zero + .seconds(1), .crash(.id(NodeID(1)))), FaultStep(at: .zero + .seconds(2), .restart(.affected))]
        let result = Simulation<Unreplicated>(config: config).run()
        let down = Instant.zero + .milliseconds(1_050) ..< Instant.zero + .seconds(2)  // replies already in flight at the crash still arrive
        let okWhileDown = result.history.filter { $0.complete.map(down.contains) ?? false }
        #expect(okWhileDown.isEmpty, "no operation can succeed while the server is down")
        #expect(result.history.contains { $0.invoke < down.upperBound && $0.outcome == .indeterminate }, "operations in flight at the crash are indeterminate")
        let after = result.history.filter { $0.invoke >= .zero + .milliseconds(2_100) }
        #expect(after.contains { if case .ok = $0.outcome { true } else { false } }, "service resumes after restart")
        // Every acknowledged put that no later put overwrote is in the final state.
        let state = result.finalStates[NodeID(1)]!
        var lastAcked: [String: HistoryOperation] = [:]
        for op in result.history where op.outcome == .ok(.done) {
            if let previous = lastAcked[op.command.key], previous.complete! > op.invoke { continue }
            lastAcked[op.command.key] = op
        }
        for (key, op) in lastAcked {
            let laterAttempt = result.history.contains { $0.command.key == key && $0.invoke > op.complete! }
            if !laterAttempt { #expect(state[key] == op.command.writtenValue) }
        }
    }
}
