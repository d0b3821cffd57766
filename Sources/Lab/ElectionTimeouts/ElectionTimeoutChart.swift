import ConsensusCore

/// The paper's Figure 16 panels: the cumulative share of trials whose leaderless time is at most x,
/// one curve per election-timeout range.
enum ElectionTimeoutChart {
    static func chart(_ study: ElectionTimeoutStudy, _ graph: ElectionTimeoutStudy.Graph,
                      _ results: [(range: ClosedRange<TimeSpan>, trials: [ElectionTrial])]) -> Chart {
        let name = "\(study.name)-\(graph.name)"
        let series = graph.ranges.map { range in
            let trials = results.first { $0.range == range }?.trials ?? []
            return (ElectionTimeoutStudy.label(range),
                    Aggregate.empiricalCDF(trials.compactMap { $0.electionTime?.milliseconds }, total: trials.count))
        }
        let values = series.flatMap { $0.1.map(\.x) }
        let x: Axis = graph.logarithmic
            ? .logarithmic(max(values.min() ?? 1, 1), max(values.max() ?? 10, 10), title: "time without leader (ms, logarithmic)")
            : .linear(0, max(values.max() ?? 1, 1), title: "time without leader (ms)")
        let caption = "Cumulative share of \(study.trials) trials per range in which another server received the new leader's first heartbeat "
            + "within x ms of the leader's crash (\(study.nodes) servers, one-way latency \(study.latency), fsync \(study.fsyncLatency), "
            + "heartbeat every half minimum timeout, crash at a uniformly random point of the heartbeat interval, \(study.laggingFollowers) "
            + "followers unable to win). A trial still without a leader after \(study.giveUpAfter) never reaches its curve, "
            + "which then stays below 100%."
        var svg = ChartFrame.start(name, title: graph.title.isEmpty ? "Time without a leader after a crash" : graph.title, caption: caption)
        let plot = ChartFrame.plot(x: x, y: .fixed(0, 100, step: 20, title: "cumulative percent of trials"))
        plot.drawAxes(&svg)
        for (index, (label, points)) in series.enumerated() {
            ChartFrame.line(&svg, plot, label, SeriesStyle(index: index), points.map { ($0.x, $0.p * 100) })
        }
        let entries = series.enumerated().map { LegendEntry(label: $1.0, sample: .line(SeriesStyle(index: $0))) }
        var bottom = ChartFrame.legend(&svg, entries, top: plot.bottom + 38)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    /// The page's names for the columns of `election-summary.csv`.
    static let heading = [
        "range": "timeout range", "timeout_min_ms": "min timeout (ms)", "timeout_max_ms": "max timeout (ms)",
        "trials": "trials", "completed": "elected a leader", "min_ms": "fastest (ms)", "median_ms": "median (ms)",
        "mean_ms": "mean (ms)", "p90_ms": "90th percentile (ms)", "p99_ms": "99th percentile (ms)", "max_ms": "slowest (ms)",
        "split_vote_share": "trials with a split vote", "broadcast_ms": "broadcast time (ms)",
        "ks_to_published": "KS distance to LogCabin", "other_simulator_ks": "Howard's KS distance",
    ]

    /// The summary's columns that hold times, empty when a trial beyond the limit decides them.
    static let times: Set = ["min_ms", "median_ms", "p90_ms", "p99_ms", "max_ms"]

    static func page(_ study: ElectionTimeoutStudy, _ summary: CSVTable, _ charts: [Chart]) -> String {
        var html = ["<!DOCTYPE html>", "<html lang=\"en\">", "<head>", "<meta charset=\"utf-8\">",
                    "<title>\(SVG.escape(study.name)) — ConsensusLab</title>", "<style>", ReportPage.style, "</style>", "</head>", "<body>",
                    "<h1>\(SVG.escape(study.name))</h1>", "<p>\(SVG.escape(study.description))</p>",
                    "<p>Data: <a href=\"election-summary.csv\">election-summary.csv</a> · <a href=\"election-trials.csv\">election-trials.csv</a></p>",
                    "<table>", "<tr>" + summary.columns.map { "<th>\(SVG.escape(heading[$0] ?? $0))</th>" }.joined() + "</tr>"]
        let limit = "> " + Number.grouped(Int(study.giveUpAfter.milliseconds))
        for row in summary.rows {
            let cells = zip(summary.columns, row).map { column, value in
                guard value.isEmpty else { return value }
                // Times beyond the limit are empty; so are the scores of a range nobody published.
                return Self.times.contains(column) ? limit : "—"
            }
            html.append("<tr>" + cells.map { "<td>\(SVG.escape($0))</td>" }.joined() + "</tr>")
        }
        html += ["</table>",
                 "<p>\(SVG.escape(limit)) ms: beyond the study's limit (a trial still without a leader after it ranks last); "
                 + "mean —: undefined while any trial is beyond the limit; KS —: no published trials for that range.</p>"]
        for chart in charts { html.append(ReportPage.figure(chart)) }
        html += ["</body>", "</html>"]
        return html.joined(separator: "\n") + "\n"
    }
}
