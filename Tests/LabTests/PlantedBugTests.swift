import Foundation
@testable import Lab
import Testing

/// Each planted bug (README § Planted bugs) is visible: its scenario under
/// `Experiments/planted-bugs/` makes the checker report the violation the bug causes on every seed
/// tried, while the correct variant of the same scenario, on the same seeds, shows none of it.
@Suite struct PlantedBugTests {
    static let scenarios = CheckedFaultRowTests.experiments.appendingPathComponent("planted-bugs")
    /// Three seeds keep each case to a few seconds; the scenario files list five.
    static let seeds: [UInt64] = [1, 2, 3]

    /// A planted bug, the scenario named after it, and what the checker must find.
    struct Case: Sendable, CustomTestStringConvertible {
        var bug: String
        /// The correct variant's label; the bugged one adds `bug=…` to its options.
        var correct: String
        var violation: Violation
        /// Whether the correct variant is clean in every respect, not only free of `violation`
        /// (primary–backup's backups answer reads from their own, possibly stale, copy by design).
        var correctIsClean = true

        var buggy: String {
            correct.hasSuffix("]") ? "\(correct.dropLast());bug=\(bug)]" : "\(correct)[bug=\(bug)]"
        }

        var testDescription: String { bug }
    }

    enum Violation: String, Sendable {
        case staleReads = "stale reads"
        case lostWrites = "lost acknowledged writes"
        case divergence = "divergent replicas"
        case atomicity = "atomicity violations"

        func count(_ run: ConsistencySummary) -> Int {
            switch self {
            case .staleReads: run.staleReads
            case .lostWrites: run.lostWrites
            case .divergence: run.divergentKeys
            case .atomicity: run.atomicityViolations
            }
        }
    }

    static let cases: [Case] = [
        Case(bug: "stale-leader-reads", correct: "raft[checkQuorum=false]", violation: .staleReads),
        Case(bug: "unbounded-lease", correct: "raft[read=lease;clockDrift=0.8]", violation: .staleReads),
        Case(bug: "figure8", correct: "raft[prevote=false;checkQuorum=false;maxBatch=1;maxInflight=1]", violation: .divergence),
        Case(bug: "volatile-vote", correct: #"raft[prevote=false;checkQuorum=false;electionTimeout=["150ms","150ms"]]"#, violation: .divergence),
        Case(bug: "no-election-restriction", correct: "raft[prevote=false;checkQuorum=false]", violation: .divergence),
        Case(bug: "broadcast-before-sync", correct: "zab[read=sync]", violation: .lostWrites),
        Case(bug: "commit-before-log", correct: "2pc", violation: .atomicity),
        Case(bug: "forget-yes-vote", correct: "2pc", violation: .divergence),
        Case(bug: "promote-stale-backup", correct: "primary-backup", violation: .lostWrites, correctIsClean: false),
    ]

    @Test(arguments: cases)
    func theCheckerSeesThePlantedBugAndNotTheCorrectProtocol(_ planted: Case) throws {
        let path = Self.scenarios.appendingPathComponent(planted.bug + ".json").path
        let definition = try ExperimentDefinition.load(path: path)
        let plan = Runner.plan(experiment: definition.name, scenarios: definition.scenarios, seeds: Self.seeds)
        #expect(Set(plan.map(\.backend.label)) == [planted.correct, planted.buggy], "\(planted.bug).json lists \(planted.correct) and \(planted.buggy)")
        for output in Runner.run(plan) {
            let run = output.consistency, seed = output.spec.seed
            if output.spec.backend.label == planted.buggy {
                #expect(planted.violation.count(run) > 0, "\(planted.buggy), seed \(seed): no \(planted.violation.rawValue)")
            } else {
                #expect(planted.violation.count(run) == 0, "\(planted.correct), seed \(seed): \(planted.violation.rawValue)")
                if planted.correctIsClean { #expect(run.isClean, "\(planted.correct), seed \(seed): \(run.anomaliesJSONL)") }
            }
        }
    }

    /// `event-node` names the node at which a step's trigger fired: a timed step has none.
    @Test func theEventNodeIsRefusedInATimedStep() throws {
        let step = { (when: String) in
            #"{"version": 1, "nodes": 3, "duration": "5s", "backends": ["raft"], "faults": [{"# + when + #", "crash": "event-node"}]}"#
        }
        _ = try ScenarioFile.parse(step(#""when": {"sent": "REQUEST_VOTE_REPLY", "delay": "50us"}"#), file: "ok.json")
        let error = try #require(throws: ScenarioError.self) { try ScenarioFile.parse(step(#""at": "1s""#), file: "timed.json") }
        #expect(error.path == "faults[0].crash")
        #expect(error.reason == #""event-node" is the node at which a step's trigger fired: only in a step with "when""#)
    }

    /// A bug the backend does not plant is refused with the list of those it does.
    @Test func anUnknownBugIsRefusedWithTheKnownOnes() throws {
        let file = #"{"version": 1, "nodes": 3, "duration": "5s", "backends": [{"protocol": "2pc", "options": {"bug": "figure8"}}]}"#
        let error = try #require(throws: ScenarioError.self) { try ScenarioFile.parse(file, file: "bug.json") }
        #expect(error.path == "backends[0].options.bug")
        #expect(error.reason == #"expected one of "none", "commit-before-log", "forget-yes-vote", found "figure8""#)
    }
}
