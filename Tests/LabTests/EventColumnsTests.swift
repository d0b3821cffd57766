import ConsensusCore
import Foundation
@testable import Lab
import Simulator
import Testing

/// What the typed events become in the files: the columns after `detail` in `events.csv`.
@Suite struct EventColumnsTests {
    @Test func roleTermAndLeaderColumnsComeFromTheTypedEvent() {
        #expect(ReportWriter.typedFields(.role(.candidate, term: 3, name: "LOOKING")) == ["LOOKING", "3", ""])
        #expect(ReportWriter.typedFields(.leader(NodeID(2), term: 4)) == ["", "4", "n2"])
        #expect(ReportWriter.typedFields(.leader(nil, term: 0)) == ["", "", ""])
        #expect(ReportWriter.typedFields(.firstCommit(index: 7, term: 2)) == ["", "2", ""])
        #expect(ReportWriter.typedFields(.crash(lostOperations: 1)) == ["", "", ""])
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
}
