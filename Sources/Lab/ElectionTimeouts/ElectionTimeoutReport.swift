import Checker
import ConsensusCore
import Foundation

/// Runs a study and writes `election-trials.csv`, `election-summary.csv`, a CDF chart per graph
/// (the paper's two panels) and `index.html`.
extension ElectionTimeoutStudy {
    static let trialColumns = ["range", "trial", "crash_ms", "election_ms", "terms", "split_vote", "broadcast_ms"]
    package static let summaryColumns = ["range", "timeout_min_ms", "timeout_max_ms", "trials", "completed", "min_ms", "median_ms",
                                        "mean_ms", "p90_ms", "p99_ms", "max_ms", "split_vote_share", "broadcast_ms",
                                        "ks_to_published", "other_simulator_ks"]

    /// Loads a study file; nil when the file is not one.
    public static func load(path: String) throws(ScenarioError) -> ElectionTimeoutStudy? {
        try load(document: try ScenarioFile.document(try ScenarioFile.text(at: path), file: path), file: path)
    }

    /// Every range on its own thread; the output does not depend on `jobs`.
    public func run(jobs: Int, progress: (@Sendable (Int, Int) -> Void)? = nil) -> [(range: ClosedRange<TimeSpan>, trials: [ElectionTrial])] {
        let study = self
        let results = Parallel.map(ranges, jobs: jobs, progress: progress) { range in ElectionTrials(study: study, range: range).run() }
        return Array(zip(ranges, results)).map { ($0, $1) }
    }

    /// Writes the study's outputs into `directory`; returns the summary as text for the terminal.
    @discardableResult
    public func write(_ results: [(range: ClosedRange<TimeSpan>, trials: [ElectionTrial])], to directory: String) throws -> String {
        try FileManager.default.createDirectory(atPath: directory + "/charts", withIntermediateDirectories: true)
        var trialsTable = CSVTable(columns: Self.trialColumns), summary = CSVTable(columns: Self.summaryColumns)
        for (range, trials) in results {
            trialsTable.append(contentsOf: Self.trialTable(range, trials))
            summary.append(Self.summaryRow(range, trials, reference: reference))
        }
        try save(trialsTable.text, "election-trials.csv", in: directory)
        try save(summary.text, "election-summary.csv", in: directory)
        let charts = graphs.map { graph in ElectionTimeoutChart.chart(self, graph, results) }
        for chart in charts { try save(chart.svg, "charts/\(chart.name).svg", in: directory) }
        try save(ElectionTimeoutChart.page(self, summary, charts), "index.html", in: directory)
        return summary.text
    }

    static func trialTable(_ range: ClosedRange<TimeSpan>, _ trials: [ElectionTrial]) -> CSVTable {
        var table = CSVTable(columns: trialColumns)
        for trial in trials {
            table.append([label(range), String(trial.trial), Number.fixed(trial.crash.milliseconds, 3),
                          trial.electionTime.map { Number.fixed($0.milliseconds, 3) } ?? "", String(trial.terms),
                          trial.splitVote ? "true" : "false", Number.fixed(trial.broadcast.milliseconds, 3)])
        }
        return table
    }

    /// The lines of `election-trials.csv` for these trials (no header).
    static func trialRows(_ range: ClosedRange<TimeSpan>, _ trials: [ElectionTrial]) -> [String] {
        trialTable(range, trials).text.split(separator: "\n").dropFirst().map(String.init)
    }

    /// Quantiles are of all trials, not only those that ended: a trial still without a leader at
    /// the study's limit ranks last, and a quantile (or the mean, or the maximum) that depends on
    /// such a trial is left empty: it is beyond the limit, and any number would understate it.
    /// The last two columns score the range against the published trials, when the study names
    /// them: the Kolmogorov–Smirnov distance of ours, and the other simulator's.
    static func summaryRow(_ range: ClosedRange<TimeSpan>, _ trials: [ElectionTrial], reference: PublishedElections? = nil) -> [String] {
        let times = trials.compactMap(\.electionTime).map(\.milliseconds).sorted()
        let allEnded = times.count == trials.count
        let rank = { (p: Double) -> String in
            let index = min(trials.count - 1, max(0, Int((p * Double(trials.count)).rounded(.up)) - 1))
            return times.indices.contains(index) ? Number.fixed(times[index], 1) : ""
        }
        let mean = allEnded && !times.isEmpty ? Number.fixed(times.reduce(0, +) / Double(times.count), 1) : ""
        let splits = trials.filter(\.splitVote).count
        return [label(range), Number.fixed(range.lowerBound.milliseconds, 3), Number.fixed(range.upperBound.milliseconds, 3),
                String(trials.count), String(times.count), times.first.map { Number.fixed($0, 1) } ?? "", rank(0.5), mean, rank(0.9),
                rank(0.99), allEnded ? times.last.map { Number.fixed($0, 1) } ?? "" : "",
                trials.isEmpty ? "" : Number.fixed(Double(splits) / Double(trials.count), 4),
                trials.isEmpty ? "" : Number.fixed(trials.map(\.broadcast.milliseconds).reduce(0, +) / Double(trials.count), 1),
                reference?.distance(range, trials).map { Number.fixed($0, 3) } ?? "",
                reference?.otherSimulator[range].map { Number.fixed($0, 3) } ?? ""]
    }

    func save(_ text: String, _ name: String, in directory: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .atomic)
    }
}
