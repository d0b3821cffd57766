import ConsensusCore
import Foundation
@testable import Lab
import Testing

/// The hunt against the planted bugs (README § Planted bugs): from seed 1, within the stated run
/// budget, `conlab hunt` finds the bug the variant plants, the shrunk scenario still shows the
/// same kind of violation, and the correct variant over the same seeds shows none. The budgets
/// are what the hunt needed here plus a margin (seed found: stale-leader-reads 28,
/// no-election-restriction 15, forget-yes-vote 2, commit-before-log 18: a fault at a protocol
/// moment, n1 crashing 119 µs after it sends a COMMIT, inside its 1.5 ms sync; unbounded-lease 32:
/// a new leader's clock slowed to 51 %, the leader cut off 647 ms later; volatile-vote 1237: a
/// voter crashed 9 µs after its first grant and back 459 µs later, two leaders of term 1; ZAB
/// broadcast-before-sync 554: a new leader paused the moment it takes the role); the bug it does
/// not find (figure8) is in the README. By default the two cheapest, and commit-before-log,
/// unbounded-lease and volatile-vote from their seeds only; `CONLAB_FULL=1` adds commit-before-log,
/// stale-leader-reads and unbounded-lease from seed 1 (about a minute each of a debug build) and
/// broadcast-before-sync from its seed (from seed 1 it is 554 ZAB runs each way, and volatile-vote
/// 1,237 Raft runs each way: commands in README § Planted bugs).
@Suite(.serialized) struct HuntPlantedBugTests {
    struct Case: Sendable, CustomStringConvertible {
        var bugged: String
        var correct: String
        var from: UInt64 = 1
        var budget: Int
        var description: String { from == 1 ? bugged : "\(bugged) from seed \(from)" }
    }

    static let cases = [
        Case(bugged: "raft[bug=no-election-restriction]", correct: "raft", budget: 20),
        Case(bugged: "2pc[bug=forget-yes-vote]", correct: "2pc", budget: 10),
        Case(bugged: "2pc[bug=commit-before-log]", correct: "2pc", from: 18, budget: 1),
        Case(bugged: "raft[bug=unbounded-lease;read=lease;clockDrift=0.5]", correct: "raft[read=lease;clockDrift=0.5]", from: 32, budget: 1),
        Case(bugged: "raft[bug=volatile-vote;prevote=false;checkQuorum=false]", correct: "raft[prevote=false;checkQuorum=false]", from: 1237, budget: 1),
    ] + (ProcessInfo.processInfo.environment["CONLAB_FULL"] == "1" ? [
        Case(bugged: "2pc[bug=commit-before-log]", correct: "2pc", budget: 25),
        Case(bugged: "raft[bug=stale-leader-reads]", correct: "raft", budget: 35),
        Case(bugged: "raft[bug=unbounded-lease;read=lease;clockDrift=0.5]", correct: "raft[read=lease;clockDrift=0.5]", budget: 40),
        Case(bugged: "zab[bug=broadcast-before-sync;read=sync]", correct: "zab[read=sync]", from: 554, budget: 1),
    ] : [])

    @Test(arguments: cases) func theHuntFindsThePlantedBugAndNotTheCorrectProtocol(_ bug: Case) throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-hunt-bug-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var request = HuntRequest(target: try HuntTarget(parsing: bug.bugged), budget: .runs(bug.budget), directory: scratch + "/bugged")
        request.from = bug.from
        request.shrinkBudget = 30
        request.jobs = 2
        let log = try Hunt.run(request)
        let violation = try #require(log.violations.first, "\(bug.bugged): nothing found within \(bug.budget) runs")
        let kind = try #require(violation.kinds.first.flatMap(Promises.init(name:)))
        let shrunk = try ScenarioFile.load(path: scratch + "/bugged/" + (try #require(violation.shrunk)))
        let replayed = Runner.run(Runner.plan(experiment: "shrunk", scenarios: shrunk))
        #expect(replayed.allSatisfy { !kind.broken(by: $0).isEmpty }, "\(bug.bugged): the shrunk scenario still breaks \(violation.kinds)")
        var correct = HuntRequest(target: try HuntTarget(parsing: bug.correct), budget: .runs(Int(violation.seed - bug.from) + 1), directory: scratch + "/correct")
        correct.from = bug.from
        correct.jobs = 2
        let clean = try Hunt.run(correct)
        #expect(clean.violations.isEmpty, "\(bug.correct) over seeds \(bug.from)–\(violation.seed): \(clean.violations.map { "s\($0.seed): \($0.message)" })")
    }
}
