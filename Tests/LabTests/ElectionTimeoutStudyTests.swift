import ConsensusCore
import Foundation
@testable import Lab
import Testing

/// The Raft paper's Figure 16 experiment, at a small scale: its shape, not its exact figures.
@Suite struct ElectionTimeoutStudyTests {
    func study(trials: Int, ranges: String) throws -> ElectionTimeoutStudy {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-study-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let text = """
        {"version": 1, "electionTimeouts": {"name": "small", "trials": \(trials), "latency": {"uniform": ["3ms", "5ms"]},
         "fsyncLatency": "2ms", "timerSlack": {"uniform": ["0us", "1ms"]}, "giveUpAfter": "20s",
         "graphs": [{"name": "g", "ranges": \(ranges)}]}}
        """
        try Data(text.utf8).write(to: file)
        return try #require(try ElectionTimeoutStudy.load(path: file.path))
    }

    @Test func moreRandomnessMeansFewerSplitVotesAndShorterElections() throws {
        let results = try study(trials: 60, ranges: #"[["150ms", "155ms"], ["150ms", "300ms"]]"#).run(jobs: 2)
        let narrow = results[0].trials, wide = results[1].trials
        #expect(narrow.count == 60 && wide.count == 60)
        // A trial that never elected a leader ranks last.
        func median(_ trials: [ElectionTrial]) -> TimeSpan { trials.map { $0.electionTime ?? .seconds(3600) }.sorted()[trials.count / 2] }
        #expect(median(narrow) > median(wide))
        #expect(narrow.filter(\.splitVote).count > wide.filter(\.splitVote).count)
        // The crash comes at most one heartbeat (75 ms) after the last one the followers heard, and
        // nobody campaigns before 150 ms of silence: no election can end sooner than 75 ms.
        #expect(wide.allSatisfy { ($0.electionTime ?? .zero) >= .milliseconds(75) })
        // A write commits in about the paper's broadcast time.
        let broadcast = wide.map(\.broadcast.milliseconds).reduce(0, +) / Double(wide.count)
        #expect(broadcast > 10 && broadcast < 20, "broadcast \(broadcast) ms")
    }

    @Test func identicalTimeoutsSplitVotesUntilTimerNoiseSeparatesThem() throws {
        let results = try study(trials: 8, ranges: #"[["150ms", "150ms"]]"#).run(jobs: 1)
        let finished = results[0].trials.compactMap(\.electionTime)
        #expect(results[0].trials.allSatisfy { $0.splitVote })
        #expect(finished.allSatisfy { $0 > .milliseconds(500) }, "\(finished)")
    }

    /// Trials that never elected a leader count in the quantiles (they rank last); a figure that
    /// depends on one is left empty instead of understated.
    @Test func summaryCountsTrialsThatNeverEnded() {
        let range = TimeSpan.milliseconds(150)...TimeSpan.milliseconds(150)
        func trial(_ index: Int, _ milliseconds: Int64?) -> ElectionTrial {
            ElectionTrial(trial: index, crash: .zero, electionTime: milliseconds.map { .milliseconds($0) }, terms: 1,
                          splitVote: false, broadcast: .milliseconds(15))
        }
        // Ten trials: 100, 200, …, 700 ms, and three that never ended.
        let trials = (0..<10).map { trial($0, $0 < 7 ? Int64($0 + 1) * 100 : nil) }
        let row = Dictionary(uniqueKeysWithValues: zip(ElectionTimeoutStudy.summaryColumns, ElectionTimeoutStudy.summaryRow(range, trials)))
        #expect(row["completed"] == "7" && row["min_ms"] == "100.0")
        #expect(row["median_ms"] == "500.0", "the 5th of 10, not the median of the 7 that ended")
        #expect(row["p90_ms"] == "" && row["p99_ms"] == "" && row["max_ms"] == "" && row["mean_ms"] == "")
        let ended = (0..<10).map { trial($0, Int64($0 + 1) * 100) }
        let full = Dictionary(uniqueKeysWithValues: zip(ElectionTimeoutStudy.summaryColumns, ElectionTimeoutStudy.summaryRow(range, ended)))
        #expect(full["p90_ms"] == "900.0" && full["max_ms"] == "1000.0" && full["mean_ms"] == "550.0")
    }

    /// The page says what an empty cell of the CSV means: beyond the limit, in a reader's words.
    @Test func thePageShowsFiguresBeyondTheLimitAsSuch() throws {
        let small = try study(trials: 10, ranges: #"[["150ms", "150ms"]]"#)
        let range = TimeSpan.milliseconds(150)...TimeSpan.milliseconds(150)
        let trials = (0..<10).map { ElectionTrial(trial: $0, crash: .zero, electionTime: $0 < 7 ? .milliseconds(Int64($0 + 1) * 100) : nil,
                                                  terms: 1, splitVote: false, broadcast: .milliseconds(15)) }
        var summary = CSVTable(columns: ElectionTimeoutStudy.summaryColumns)
        summary.append(ElectionTimeoutStudy.summaryRow(range, trials))
        let page = ElectionTimeoutChart.page(small, summary, [])
        let cells = page.split(separator: "\n").first { $0.hasPrefix("<tr><td>") }!
        #expect(cells.components(separatedBy: "<td>&gt; 20,000</td>").count - 1 == 3, "p90, p99 and slowest: \(cells)")
        #expect(cells.contains("<td>—</td>") && !cells.contains("<td></td>"))
        #expect(page.contains("<th>99th percentile (ms)</th>") && !page.contains("<th>p99_ms</th>"))
        #expect(Number.grouped(1_234_567) == "1,234,567" && Number.grouped(999) == "999" && Number.grouped(-30_000) == "-30,000")
    }

    /// A study of `nodes` servers on links of a fixed one-way `latency`, without timer slack or
    /// lagging followers, over `ranges`.
    func plainStudy(nodes: Int, latency: String, trials: Int, ranges: String) throws -> ElectionTimeoutStudy {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("conlab-study-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let text = """
        {"version": 1, "electionTimeouts": {"name": "plain", "nodes": \(nodes), "trials": \(trials), "latency": "\(latency)",
         "fsyncLatency": "1ms", "laggingFollowers": 0, "giveUpAfter": "20s", "graphs": [{"name": "g", "ranges": \(ranges)}]}}
        """
        try Data(text.utf8).write(to: file)
        return try #require(try ElectionTimeoutStudy.load(path: file.path))
    }

    /// Raft thesis §9.3: with s live servers whose timeouts are drawn over a range, the first
    /// times out after about 1/(s+1) of the range on average (the least of s uniform draws).
    @Test(arguments: [2, 4])
    func theFirstOfSServersTimesOutAfterAboutOneOverSPlusOneOfTheRange(servers: Int) throws {
        let trials = try plainStudy(nodes: servers + 1, latency: "1ms", trials: 150, ranges: #"[["150ms", "300ms"]]"#).run(jobs: 1)[0].trials
        // The heartbeat that reset the survivors' timers arrived 1 ms after the round left.
        let fractions = trials.compactMap(\.firstTimeout).map { ($0.milliseconds - 1 - 150) / 150 }
        #expect(fractions.count == trials.count && fractions.allSatisfy { $0 >= 0 && $0 <= 1 })
        let mean = fractions.reduce(0, +) / Double(fractions.count)
        // The mean of 150 draws is within 0.05 of 1/(s+1) (about three standard errors).
        #expect(abs(mean - 1 / Double(servers + 1)) < 0.05, "\(servers) servers: first timeout after \(mean) of the range")
    }

    /// Raft thesis §9.3: a range of 10–20 times the one-way latency keeps split votes rare, even
    /// with the synchronised heartbeat that provokes them; a range of a few latencies does not.
    /// Counted as elections a split vote cost a term (two candidates in one term, where one still
    /// wins, are frequent either way: 37% and 96% here).
    @Test func theRecommendedRangeKeepsSplitVotesRare() throws {
        let results = try plainStudy(nodes: 5, latency: "5ms", trials: 150, ranges: #"[["50ms", "100ms"], ["10ms", "20ms"]]"#).run(jobs: 2)
        func share(_ trials: [ElectionTrial]) -> Double { Double(trials.filter { $0.terms > 1 }.count) / Double(trials.count) }
        let recommended = share(results[0].trials), tight = share(results[1].trials)
        #expect(recommended < 0.15, "10–20× the latency: \(recommended) of the elections took a second term")
        #expect(tight > 3 * recommended, "2–4× the latency: \(tight) against \(recommended)")
    }

    /// The two-sample Kolmogorov–Smirnov distance: the largest gap between the two empirical
    /// distributions; a trial that never ended (nil) lies beyond every finite time.
    @Test func kolmogorovSmirnovDistance() {
        #expect(KolmogorovSmirnov.distance([1, 2, 3], [3, 1, 2]) == 0)
        #expect(KolmogorovSmirnov.distance([1, 2], [3, 4]) == 1)
        #expect(KolmogorovSmirnov.distance([1, 2, 3, 4], [1, 2, 5, 6]) == 0.5, "after 2, one has half left, the other none")
        #expect(KolmogorovSmirnov.distance([1, 2, nil, nil], [1, 2, 3, 4]) == 0.5, "never-ended trials never catch up")
        #expect(KolmogorovSmirnov.distance([nil, nil], [1]) == 1)
        #expect(abs(KolmogorovSmirnov.distance([1, 1, 2], [1, 2, 2]) - 1.0 / 3) < 1e-12, "ties step together")
    }

    @Test func outputsAreDeterministic() throws {
        let small = try study(trials: 10, ranges: #"[["100ms", "200ms"], ["25ms", "50ms"]]"#)
        let directories = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("conlab-study-\(UUID().uuidString)").path }
        defer { for directory in directories { try? FileManager.default.removeItem(atPath: directory) } }
        try small.write(small.run(jobs: 2), to: directories[0])
        try small.write(small.run(jobs: 1), to: directories[1])
        for file in ["election-trials.csv", "election-summary.csv", "index.html", "charts/small-g.svg"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: directories[0] + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: directories[1] + "/" + file))
            #expect(a == b, "\(file) differs")
        }
    }
}
