import Foundation

/// `conlab compare SIM REAL`: does reality agree with the simulator? Two experiment folders of the
/// same scenarios — one written by the simulator, one by `conlab run --real` — paired run by run
/// (the run id names scenario, backend and seed), verdict by verdict and fault window by fault
/// window.
///
/// **Which verdicts must agree.** A real run is one interleaving among many, so a verdict that
/// the simulator itself gives on some seeds and not on others (a stale read that needs a read to
/// land in a window of a few milliseconds) says nothing when reality differs. A verdict is
/// *decided* for a scenario and backend when every simulated seed gives it, and at least two were
/// run: then it follows from the protocol and the fault schedule, not from timing — Raft loses no
/// acknowledged write, primary-backup loses some when its primary is isolated, 3PC diverges when
/// its ABORT is cut off — and the real run must give it too. A decided verdict reality does not
/// reproduce is a disagreement; the rest are reported beside it but decide nothing.
///
/// **Availability** (the share of operations served: overall, and on each side of every fault
/// window) agrees when simulated and real differ by at most `tolerance`, a stated absolute
/// difference: real timers fire late, a real `fsync` takes what the disk takes, and a few
/// operations either way at a window's edge move a short window's share.
public struct DriverComparison {
    /// The consistency verdicts of `summary.csv`, compared as "none" against "some" (the counts
    /// themselves depend on how many operations the interleaving happened to put in harm's way).
    public enum Verdict: String, CaseIterable, Sendable {
        case linearizable
        case lostWrites = "lost_writes"
        case divergentKeys = "divergent_keys"
        case atomicityViolations = "atomicity_violations"
        case staleReads = "stale_reads"
        case safetyViolations = "safety_violations"

        /// The verdict a run's row gives: `true`/`false`/`unknown` for linearizability, else
        /// `none` or `some`.
        func outcome(_ row: CSVReader.Row) throws -> String {
            if self == .linearizable { return row.string(rawValue) }
            return try row.int(rawValue) == 0 ? "none" : "some"
        }
    }

    /// One verdict of one real run beside its simulated twin.
    public struct VerdictRow: Sendable {
        public var run: String
        public var scenario: String
        public var backend: String
        public var seed: String
        public var verdict: Verdict
        /// The column's value on each driver (a count is shown, though only none/some is compared).
        public var simulated: String
        public var real: String
        /// What every simulated seed gave, e.g. `5/5 some`, `3/5 none`.
        public var simulatedSeeds: String
        public var decided: Bool
        public var agrees: Bool
    }

    /// Availability on one side of one fault window (or of the whole run, `window` 0).
    public struct AvailabilityRow: Sendable {
        public var run: String
        public var scenario: String
        public var backend: String
        public var seed: String
        public var window: Int
        public var faults: String
        public var side: String
        public var simulated: Double
        public var real: Double
        public var withinTolerance: Bool
    }

    public static let defaultTolerance = 0.15

    public var simulatedDirectory: String
    public var realDirectory: String
    public var tolerance: Double
    public private(set) var verdicts: [VerdictRow] = []
    public private(set) var availability: [AvailabilityRow] = []
    /// Fault windows that exist on one driver only (a fault the real driver deferred, say).
    public private(set) var unpairedWindows: [String] = []

    public var disagreements: [VerdictRow] { verdicts.filter { $0.decided && !$0.agrees } }
    public var outsideTolerance: [AvailabilityRow] { availability.filter { !$0.withinTolerance } }

    /// Reads both folders and pairs every real run with the simulated run of the same id.
    public init(simulated: String, real: String, tolerance: Double = defaultTolerance) throws {
        simulatedDirectory = simulated
        realDirectory = real
        self.tolerance = tolerance
        let required = ["run", "scenario", "protocol", "variant", "seed", "availability", "availability_majority_side",
                        "availability_minority_side"] + Verdict.allCases.map(\.rawValue)
        let simulatedRuns = try CSVReader(simulated, "summary.csv", required: required).rows
        let realRuns = try CSVReader(real, "summary.csv", required: required).rows
        let windowColumns = ["run", "window", "faults", "availability", "availability_majority_side", "availability_minority_side"]
        let simulatedWindows = Dictionary(grouping: try CSVReader(simulated, "faults.csv", required: windowColumns).rows) { $0.string("run") }
        let realWindows = Dictionary(grouping: try CSVReader(real, "faults.csv", required: windowColumns).rows) { $0.string("run") }

        let byID = Dictionary(simulatedRuns.map { ($0.string("run"), $0) }, uniquingKeysWith: { first, _ in first })
        let seedsOf = Dictionary(grouping: simulatedRuns) { Self.backendKey($0) }
        guard !realRuns.isEmpty else { throw ReportError((real as NSString).appendingPathComponent("summary.csv"), "no runs") }
        for realRun in realRuns {
            let id = realRun.string("run")
            guard let twin = byID[id] else {
                throw ReportError((simulated as NSString).appendingPathComponent("summary.csv"),
                                  "no simulated run \(id) to compare with \(realRun.file) line \(realRun.line): run the same scenarios and seeds in the simulator")
            }
            try compareVerdicts(realRun, twin, seeds: seedsOf[Self.backendKey(realRun)] ?? [twin])
            try compareAvailability(realRun, twin, simulatedWindows[id] ?? [], realWindows[id] ?? [])
        }
    }

    static func backendKey(_ row: CSVReader.Row) -> String {
        [row.string("scenario"), row.string("protocol"), row.string("variant")].joined(separator: "\u{1F}")
    }

    static func label(_ row: CSVReader.Row) -> String {
        let variant = row.string("variant")
        return variant.isEmpty ? row.string("protocol") : "\(row.string("protocol"))[\(variant)]"
    }

    private mutating func compareVerdicts(_ real: CSVReader.Row, _ twin: CSVReader.Row, seeds: [CSVReader.Row]) throws {
        for verdict in Verdict.allCases {
            let outcomes = try seeds.map(verdict.outcome)
            let simulated = try verdict.outcome(twin), observed = try verdict.outcome(real)
            let common = outcomes.allSatisfy { $0 == outcomes[0] } ? outcomes[0] : nil
            let tally = Dictionary(grouping: outcomes) { $0 }.sorted { ($0.value.count, $1.key) > ($1.value.count, $0.key) }
                .map { "\($0.value.count)/\(outcomes.count) \($0.key)" }.joined(separator: ", ")
            let decided = outcomes.count >= 2 && common != nil && common != "unknown"
            verdicts.append(VerdictRow(run: real.string("run"), scenario: real.string("scenario"), backend: Self.label(real), seed: real.string("seed"),
                                       verdict: verdict, simulated: twin.string(verdict.rawValue), real: real.string(verdict.rawValue),
                                       simulatedSeeds: tally, decided: decided, agrees: simulated == observed))
        }
    }

    private static let sides = [("all", "availability"), ("majority", "availability_majority_side"), ("minority", "availability_minority_side")]

    private mutating func compareAvailability(_ real: CSVReader.Row, _ twin: CSVReader.Row, _ simulatedWindows: [CSVReader.Row], _ realWindows: [CSVReader.Row]) throws {
        try addSides(real, window: 0, faults: "whole run", simulated: twin, observed: real, columns: [Self.sides[0]])
        let count = min(simulatedWindows.count, realWindows.count)
        for index in 0..<count {
            try addSides(real, window: index + 1, faults: simulatedWindows[index].string("faults"), simulated: simulatedWindows[index], observed: realWindows[index],
                         columns: Self.sides)
        }
        if simulatedWindows.count != realWindows.count {
            unpairedWindows.append("\(real.string("run")): \(simulatedWindows.count) fault windows simulated, \(realWindows.count) real")
        }
    }

    private mutating func addSides(_ run: CSVReader.Row, window: Int, faults: String, simulated: CSVReader.Row, observed: CSVReader.Row,
                                   columns: [(String, String)]) throws {
        for (side, column) in columns {
            // A side with no operations (no partition, or nobody on the minority side) has no share.
            guard let simulatedShare = try simulated.number(column), let realShare = try observed.number(column) else { continue }
            availability.append(AvailabilityRow(run: run.string("run"), scenario: run.string("scenario"), backend: Self.label(run), seed: run.string("seed"),
                                                window: window, faults: faults, side: side, simulated: simulatedShare, real: realShare,
                                                withinTolerance: abs(simulatedShare - realShare) <= tolerance + 1e-9))
        }
    }
}
