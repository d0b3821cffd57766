/// Lines over the run's time, one per backend variant, on the scenario's fault windows:
/// availability, throughput, and latency p50 and p99 per window of `timeseries.csv`.
enum TimeSeriesChart {
    struct Series {
        var label: String
        var style: SeriesStyle
        var points: [(t: Double, value: Double?)]
    }

    static func charts(_ group: ScenarioGroup, _ data: ReportData) throws -> [Chart] {
        let bands = Aggregate.faultBands(group.runs, data)
        let end = try Aggregate.timeEnd(group.runs, data)
        func series(_ value: (CSVReader.Row) throws -> Double?) throws -> [Series] {
            try group.variants.map { Series(label: $0.label, style: $0.style, points: try Aggregate.perWindow($0.runs, data, value)) }
        }
        let seeds = seedsText(group)
        let availability = try series { try $0.number("availability").map { $0 * 100 } }
        let throughput = try series { row in
            let width = try row.number("window_ms") ?? 0
            return width > 0 ? Double(try row.int("ops_ok")) / (width / 1000) : nil
        }
        let p50 = try series { try $0.number("latency_p50_ms") }, p99 = try series { try $0.number("latency_p99_ms") }
        return [
            chart(group.key + "-availability", title: "\(group.title): availability over time",
                  caption: "Share of the operations invoked in each window that the system served (ok, or a compare-and-set that compared), "
                      + "mean over \(seeds) per window; a gap is a window in which no operation was invoked.\(bands.caption)",
                  y: .fixed(0, 100, step: 20, title: "availability (%)"), end: end, series: availability, bands: bands),
            chart(group.key + "-throughput", title: "\(group.title): throughput over time",
                  caption: "Operations completed ok per second of invocation time, mean over \(seeds) per window.\(bands.caption)",
                  y: .linear(0, maxValue(throughput), title: "throughput (ops/s)"), end: end, series: throughput, bands: bands),
            latency(group, "p50", p50, seeds: seeds, end: end, bands: bands),
            latency(group, "p99", p99, seeds: seeds, end: end, bands: bands),
        ]
    }

    static func latency(_ group: ScenarioGroup, _ quantile: String, _ series: [Series], seeds: String, end: Double, bands: FaultBands) -> Chart {
        let values = series.flatMap { $0.points.compactMap(\.value) }.filter { $0 > 0 }
        return chart(group.key + "-latency-\(quantile)", title: "\(group.title): latency \(quantile) over time",
                     caption: "The \(quantile) latency of the operations served in each window (nearest rank), mean over \(seeds) per window; "
                         + "logarithmic scale.\(bands.caption)",
                     y: .logarithmic(values.min() ?? 1, values.max() ?? 10, title: "latency \(quantile) (ms)"), end: end, series: series,
                     bands: bands)
    }

    /// "the 5 seeds", or "each backend's seeds (2–5)" when backends ran different seed counts.
    static func seedsText(_ group: ScenarioGroup) -> String {
        let counts = group.variants.map(\.runs.count)
        guard let low = counts.min(), let high = counts.max() else { return "no seeds" }
        if low == high { return low == 1 ? "the one seed" : "the \(low) seeds" }
        return "each backend's seeds (\(low)–\(high))"
    }

    static func maxValue(_ series: [Series]) -> Double {
        series.flatMap { $0.points.compactMap(\.value) }.max() ?? 1
    }

    static func chart(_ name: String, title: String, caption: String, y: Axis, end: Double, series: [Series], bands: FaultBands) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let plot = ChartFrame.plot(x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 6), y: y)
        bands.draw(&svg, plot)
        plot.drawAxes(&svg)
        for line in series { ChartFrame.line(&svg, plot, line.label, line.style, line.points.map { ($0.t, $0.value) }) }
        var bottom = ChartFrame.legend(&svg, series.map { LegendEntry(label: $0.label, sample: .line($0.style)) } + bands.legend, top: plot.bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }
}
