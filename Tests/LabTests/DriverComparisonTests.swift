import Foundation
@testable import Lab
import Testing

/// `conlab compare`: real runs paired with their simulated twins, decided verdicts told from the
/// ones timing decides, availability within the tolerance.
@Suite struct DriverComparisonTests {
    /// One run of a summary: the verdict counts and availability shares it has.
    struct Run {
        var scenario = "leader-isolated"
        var backend = "raft"
        var seed = 1
        var linearizable = "true"
        var lost = 0
        var divergent = 0
        var stale = 0
        var availability = "0.9000"
        var majority = "0.9500"
        var minority = "0.1000"
        /// Per fault window: (majority share, minority share).
        var windows: [(String, String)] = [("0.9500", "0.1000")]

        var id: String { "\(scenario)_\(backend)_s\(seed)" }
    }

    static let summaryHeader = "run,scenario,protocol,variant,seed,availability,availability_majority_side,availability_minority_side,"
        + "linearizable,lost_writes,divergent_keys,atomicity_violations,stale_reads,safety_violations"

    static func folder(_ runs: [Run]) throws -> String {
        let path = NSTemporaryDirectory() + "conlab-compare-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        var summary = summaryHeader + "\n", faults = "run,window,faults,availability,availability_majority_side,availability_minority_side\n"
        for run in runs {
            summary += "\(run.id),\(run.scenario),\(run.backend),,\(run.seed),\(run.availability),\(run.majority),\(run.minority),"
                + "\(run.linearizable),\(run.lost),\(run.divergent),0,\(run.stale),0\n"
            for (index, window) in run.windows.enumerated() {
                faults += "\(run.id),\(index + 1),\"partition isolate(leader) (n1 | n2,n3)\",0.5,\(window.0),\(window.1)\n"
            }
        }
        try Data(summary.utf8).write(to: URL(fileURLWithPath: path + "/summary.csv"))
        try Data(faults.utf8).write(to: URL(fileURLWithPath: path + "/faults.csv"))
        return path
    }

    static func seeds(_ count: Int, _ change: (inout Run) -> Void = { _ in }) -> [Run] {
        (1...count).map { seed in
            var run = Run(seed: seed)
            change(&run)
            return run
        }
    }

    @Test func aVerdictEverySimulatedSeedGivesMustBeReproduced() throws {
        let simulated = try Self.folder(Self.seeds(3) { $0.backend = "primary-backup"; $0.lost = 5 + $0.seed })
        let real = try Self.folder([Run(backend: "primary-backup", lost: 0)])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let comparison = try DriverComparison(simulated: simulated, real: real)
        let lost = try #require(comparison.verdicts.first { $0.verdict == .lostWrites })
        #expect(lost.decided && !lost.agrees)
        #expect(lost.simulatedSeeds == "3/3 some")
        #expect(comparison.disagreements.map(\.verdict) == [.lostWrites])
        let page = ComparisonReport.markdown(comparison, command: "conlab compare a b")
        #expect(page.contains("6 → 0 ✗"), "the table marks the disagreement")
        #expect(page.contains("`leader-isolated_primary-backup_s1` lost_writes: simulated 6 (every seed: 3/3 some), real 0"))
    }

    @Test func countsThatDifferButAgreeOnSomeAreReproduced() throws {
        let simulated = try Self.folder(Self.seeds(3) { $0.lost = 2 * $0.seed })
        let real = try Self.folder([Run(lost: 9)])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let comparison = try DriverComparison(simulated: simulated, real: real)
        #expect(comparison.disagreements.isEmpty)
        #expect(comparison.verdicts.filter(\.decided).count == DriverComparison.Verdict.allCases.count)
    }

    @Test func aVerdictTheSimulatedSeedsDisagreeOnDecidesNothing() throws {
        let simulated = try Self.folder(Self.seeds(4) { $0.stale = $0.seed % 2 })
        let real = try Self.folder([Run(seed: 2, stale: 1)])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let comparison = try DriverComparison(simulated: simulated, real: real)
        let stale = try #require(comparison.verdicts.first { $0.verdict == .staleReads })
        #expect(!stale.decided)
        #expect(!stale.agrees, "seed 2 simulated none, real some")
        #expect(stale.simulatedSeeds == "2/4 none, 2/4 some")
        #expect(comparison.disagreements.isEmpty)
        #expect(ComparisonReport.markdown(comparison, command: "c").contains("0 → 1 ~"))
    }

    @Test func anUnknownVerdictOrASingleSeedDecidesNothing() throws {
        let unknown = try Self.folder(Self.seeds(3) { $0.linearizable = "unknown" })
        let single = try Self.folder([Run(linearizable: "false")])
        let real = try Self.folder([Run(linearizable: "true")])
        defer { for path in [unknown, single, real] { try? FileManager.default.removeItem(atPath: path) } }
        for simulated in [unknown, single] {
            let comparison = try DriverComparison(simulated: simulated, real: real)
            #expect(comparison.verdicts.first { $0.verdict == .linearizable }?.decided == false)
            #expect(comparison.disagreements.isEmpty)
        }
    }

    @Test func availabilityIsComparedPerSideOfEveryWindowWithinTheTolerance() throws {
        let simulated = try Self.folder(Self.seeds(2) { $0.windows = [("0.9000", "0.0500"), ("0.8000", "")] })
        let real = try Self.folder([Run(windows: [("0.7000", "0.1500"), ("0.7500", "0.2000")])])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let comparison = try DriverComparison(simulated: simulated, real: real, tolerance: 0.15)
        let pairs = comparison.availability.map { "\($0.window) \($0.side) \($0.withinTolerance)" }
        // Window 2's minority side has no share in the simulator: nothing to compare.
        #expect(pairs == ["0 all true", "1 all true", "1 majority false", "1 minority true", "2 all true", "2 majority true"])
        #expect(comparison.outsideTolerance.count == 1)
        let csv = ComparisonReport.availabilityCSV(comparison)
        #expect(csv.contains(",1,\"partition isolate(leader) (n1 | n2,n3)\",majority,0.9000,0.7000,-0.2000,false\n"))
    }

    @Test func windowsOnOneDriverOnlyAreNamed() throws {
        let simulated = try Self.folder(Self.seeds(2) { $0.windows = [("0.9", "0.1"), ("0.9", "0.1")] })
        let real = try Self.folder([Run(windows: [("0.9", "0.1")])])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let comparison = try DriverComparison(simulated: simulated, real: real)
        #expect(comparison.unpairedWindows == ["leader-isolated_raft_s1: 2 fault windows simulated, 1 real"])
    }

    @Test func aRealRunWithoutASimulatedTwinIsBadInputNamingIt() throws {
        let simulated = try Self.folder([Run()])
        let real = try Self.folder([Run(seed: 7)])
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let error = #expect(throws: ReportError.self) { try DriverComparison(simulated: simulated, real: real) }
        #expect(error?.description.contains("no simulated run leader-isolated_raft_s7") == true, "\(error?.description ?? "")")
    }

    @Test func aFolderWithoutTheColumnsIsBadInputNamingTheColumn() throws {
        let simulated = try Self.folder([Run()])
        let real = NSTemporaryDirectory() + "conlab-compare-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: real, withIntermediateDirectories: true)
        try Data("run,scenario\nx,y\n".utf8).write(to: URL(fileURLWithPath: real + "/summary.csv"))
        defer { for path in [simulated, real] { try? FileManager.default.removeItem(atPath: path) } }
        let error = #expect(throws: ReportError.self) { try DriverComparison(simulated: simulated, real: real) }
        #expect(error?.description.contains("summary.csv: no column \"protocol\"") == true, "\(error?.description ?? "")")
    }
}
