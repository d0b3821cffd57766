import ConsensusCore
import Foundation
@testable import Lab
import Simulator
import Testing

/// What the typed events become in the files: the columns after `detail` in `events.csv`, and the
/// `safety_violations` count in `summary.csv`.
@Suite struct EventColumnsTests {
    @Test func roleTermAndLeaderColumnsComeFromTheTypedEvent() {
        #expect(ReportWriter.typedFields(.role(.candidate, term: 3, name: "LOOKING")) == ["LOOKING", "3", "", "", "", ""])
        #expect(ReportWriter.typedFields(.leader(NodeID(2), term: 4)) == ["", "4", "n2", "", "", ""])
        #expect(ReportWriter.typedFields(.leader(nil, term: 0)) == ["", "", "", "", "", ""])
        #expect(ReportWriter.typedFields(.firstCommit(index: 7, term: 2)) == ["", "2", "", "", "", ""])
        #expect(ReportWriter.typedFields(.crash(lostOperations: 1)) == ["", "", "", "", "", ""])
        #expect(ReportWriter.typedFields(.inDoubt(transaction: 2 << 48 | 17, key: "k3", duration: .milliseconds(1500), ending: .decided))
                == ["", "", "", "T2.17", "k3", "1500.000"])
    }

    /// `conlab report` reads the role and the leader from their own columns; a folder written
    /// before they existed is named, not drawn without roles.
    @Test func aReportRefusesEventsWithoutTheTypedColumns() throws {
        let directory = try ReportFixture.write()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try "run,t_ms,node,kind,detail\n".write(toFile: directory + "/events.csv", atomically: true, encoding: .utf8)
        #expect {
            try Report.build(directory: directory)
        } throws: { error in
            "\(error)".hasSuffix("events.csv: no column \"role\"")
        }
    }

    /// Under the partition after PreCommit, 3PC's participants decide both ways and say so; 2PC
    /// blocks instead and reports nothing. The summary counts exactly the `violation` lines.
    @Test func threePhaseCommitReportsConflictingDecisionsAndTwoPhaseCommitNone() throws {
        let experiments = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Experiments")
        let definition = try ExperimentDefinition.load(path: experiments.appendingPathComponent("3pc-partition-precommit.json").path)
        let plan = Runner.plan(experiment: definition.name, scenarios: definition.scenarios, seeds: [1])
            .filter { ["2pc", "3pc"].contains($0.backend.label) }
        for output in Runner.run(plan) {
            let violations = output.result.violations
            let lines = ReportWriter.events([output]).rows.filter { $0[3] == "violation" }
            #expect(SummaryRow(output).value(.safetyViolations) == String(violations.count))
            #expect(lines.count == violations.count)
            if output.spec.backend.label == "3pc" {
                #expect(!violations.isEmpty && violations.allSatisfy { $0.rule == .conflictingDecision })
                #expect(lines.allSatisfy { $0[4].hasPrefix("conflicting-decision: ") })
            } else {
                #expect(violations.isEmpty, "\(violations)")
            }
        }
    }
}
