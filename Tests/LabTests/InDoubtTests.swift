import ConsensusCore
import Foundation
@testable import Lab
import Simulator
import Testing

/// 2PC blocking made visible: the `in_doubt_*` columns, the `in-doubt` and `coordinator` lines of
/// `events.csv`, and the charts drawn from them.
@Suite struct InDoubtTests {
    /// Seed 1 of `scenario`'s backends `labels`, after `edit`, by label.
    static func outputs(_ scenario: String, _ labels: [String], edit: (inout Scenario) -> Void = { _ in }) throws -> [String: RunOutput] {
        var scenarios = try ExperimentDefinition.load(path: CheckedFaultRowTests.experiments.appendingPathComponent(scenario + ".json").path).scenarios
        for index in scenarios.indices { edit(&scenarios[index]) }
        let plan = Runner.plan(experiment: scenario, scenarios: scenarios, seeds: [1]).filter { labels.contains($0.backend.label) }
        #expect(Set(plan.map(\.backend.label)) == Set(labels), "\(scenario) lists \(labels)")
        return Dictionary(uniqueKeysWithValues: Runner.run(plan).map { ($0.spec.backend.label, $0) })
    }

    static func time(of wanted: (SimulationEvent) -> Bool, in result: SimulationResult) throws -> Instant {
        try #require(result.events.first { wanted($0.event) }).time
    }

    /// 3PC split by a rejected PreCommit and a partition: the atomicity violation names the
    /// transaction as its coordinator numbers it, the client's write it carried and that key.
    @Test func anAtomicityViolationNamesTheWriteItCarried() throws {
        let run = try #require(try Self.outputs("3pc-partition-precommit", ["3pc"])["3pc"])
        let summary = ConsistencySummary.check(run.result)
        #expect(summary.atomicityViolations >= 1)
        let line = try #require(summary.anomaliesJSONL.split(separator: "\n").first { $0.contains("atomicity-violation") })
        let anomaly = try JSONValue(parsing: String(line))
        guard case .string(let key)? = anomaly["key"], case .array(let ops)? = anomaly["ops"], case .number(let id)? = ops.first,
              case .string(let transaction)? = anomaly["transaction"], case .string(let explanation)? = anomaly["explanation"] else {
            Issue.record("no key, operation or transaction: \(line)")
            return
        }
        let write = try #require(run.result.history.first { $0.id == Int(id) })
        #expect(write.command.key == key && !write.command.isRead)
        #expect(transaction.hasPrefix("T\(write.node.rawValue).") && explanation.contains("which carried #\(Int(id)) "), "\(explanation)")
    }

    /// `coordinator-crash-after-prepare`: 2PC's coordinator crashes with COMMIT logged and unsent
    /// and restarts at 15 s. Its participants wait in doubt, the key locked, from before the crash
    /// until after the restart, and then all learn the decision; 3PC's time out in under a second.
    /// The roles chart draws the wait as in-doubt lanes, and the blocked-keys chart the key.
    @Test func twoPhaseCommitParticipantsWaitForTheCrashedCoordinator() throws {
        let runs = try Self.outputs("coordinator-crash-after-prepare", ["2pc", "3pc"])
        let twoPC = try #require(runs["2pc"]), threePC = try #require(runs["3pc"])
        let crash = try Self.time(of: { if case .crash = $0 { true } else { false } }, in: twoPC.result)
        let restart = try Self.time(of: { if case .restart = $0 { true } else { false } }, in: twoPC.result)
        let row = SummaryRow(twoPC)
        #expect(try #require(Double(row.value(.inDoubtMax))) >= (restart - crash).milliseconds)
        #expect(try #require(Int(row.value(.inDoubtTransactions))) >= 1)
        #expect(row.value(.inDoubtUnresolved) == "0")
        let threeRow = SummaryRow(threePC)
        #expect(threeRow.value(.inDoubtTransactions) == "0" && threeRow.value(.inDoubtUnresolved) == "0")
        #expect(try #require(Double(threeRow.value(.inDoubtMax))) < InDoubtSpan.blocking.milliseconds)

        let waits = twoPC.result.events.compactMap { record -> (NodeID, String)? in
            guard case .inDoubt(let transaction, let key, let duration, .decided) = record.event, duration >= restart - crash else { return nil }
            #expect(ObservableEvent.coordinator(ofTransaction: transaction) != record.node, "a coordinator is not in doubt")
            return (record.node!, key)
        }
        try #require(!waits.isEmpty, "some participant waited in doubt through the crash")

        let directory = ReportFixture.temporary("in-doubt")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try ReportWriter.write([twoPC, threePC], to: directory)
        try Report.build(directory: directory)
        let roles = try String(contentsOfFile: directory + "/charts/coordinator-crash-after-prepare-roles.svg", encoding: .utf8)
        #expect(roles.contains(">in doubt</text>") && roles.contains(">coordinator</text>"))
        #expect(roles.contains("fill=\"\(RoleTimelineChart.inDoubtColour)\"") && !roles.contains("no roles reported"))
        let keys = try String(contentsOfFile: directory + "/charts/coordinator-crash-after-prepare-blocked-keys.svg", encoding: .utf8)
        #expect(keys.contains(">\(waits[0].1)</text>"), "the blocked key \(waits[0].1) has a lane")
    }

    /// Without the restart the coordinator returns only with the heal at the end of the run (no
    /// quiescence after it): its participants are still in doubt at the end, each transaction
    /// counted once however many participants wait, and the longest wait lasts until the end.
    @Test func aCoordinatorThatNeverReturnsLeavesItsTransactionsInDoubt() throws {
        let run = try #require(try Self.outputs("coordinator-crash-after-prepare", ["2pc"]) {
            $0.faults.removeLast()
            $0.quiescence = .zero
        }["2pc"])
        let open = run.result.inDoubt.filter { $0.ending == .runEnded }
        try #require(!open.isEmpty)
        let row = SummaryRow(run)
        #expect(row.value(.inDoubtUnresolved) == String(Set(open.map(\.transaction)).count))
        #expect(Set(open.map(\.node)).count > 1, "every participant of the transaction waits")
        #expect(try #require(Double(row.value(.inDoubtMax))) >= (run.result.end - open.map(\.start).min()!).milliseconds)
    }

    /// Backends without atomic commit have no participants in doubt: empty, not 0.
    @Test func otherBackendsLeaveTheColumnsEmpty() throws {
        let run = try #require(try Self.outputs("leader-crash", ["raft"]) { $0.duration = .seconds(2) }["raft"])
        let row = SummaryRow(run)
        #expect([row.value(.inDoubtTransactions), row.value(.inDoubtMax), row.value(.inDoubtUnresolved)] == ["", "", ""])
    }
}
