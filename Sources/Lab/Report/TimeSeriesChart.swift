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
        let sides = try ["majority", "minority"].map { side in
            (side, try series { try $0.numberIfPresent("availability_\(side)_side").map { $0 * 100 } })
        }
        let throughput = try series { row in
            let width = try row.number("window_ms") ?? 0
            return width > 0 ? Double(try row.int("ops_ok")) / (width / 1000) : nil
        }
        let p50 = try series { try $0.number("latency_p50_ms") }, p99 = try series { try $0.number("latency_p99_ms") }
        return [
            availabilityChart(group, availability, sides: sides, seeds: seeds, end: end, bands: bands),
            chart(group.key + "-throughput", title: "\(group.title): throughput over time",
                  caption: "Operations completed ok per second of invocation time, mean over \(seeds) per window.\(bands.caption)",
                  y: .linear(0, maxValue(throughput), title: "throughput (ops/s)"), end: end, series: throughput, bands: bands),
            latency(group, "p50", p50, seeds: seeds, end: end, bands: bands),
            latency(group, "p99", p99, seeds: seeds, end: end, bands: bands),
        ]
    }

    /// Availability of all clients, and, when a partition cut nodes off from a majority, of the
    /// clients on each side in panels of their own: which side stays available is the CAP lesson.
    static func availabilityChart(_ group: ScenarioGroup, _ all: [Series], sides: [(String, [Series])], seeds: String, end: Double,
                                  bands: FaultBands) -> Chart {
        let split = sides.filter { $0.1.contains { $0.points.contains { $0.value != nil } } }
        let panels = [(split.isEmpty ? nil : "all clients", all)] + split.map { ("clients on the \($0.0) side", $0.1) }
        let sideNote = split.isEmpty ? "" : " Sides: clients whose node could, or could not, reach a majority when they invoked (as faults.csv splits them)."
        return chart(group.key + "-availability", title: "\(group.title): availability over time",
                     caption: "Share of the operations invoked in each window that the system served (ok, or a compare-and-set that compared), "
                         + "mean over \(seeds) per window; a gap is a window in which no operation was invoked.\(sideNote)\(bands.caption)",
                     y: .fixed(0, 100, step: 20, title: "availability (%)"), end: end, panels: panels, bands: bands)
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
        chart(name, title: title, caption: caption, y: y, end: end, panels: [(nil, series)], bands: bands)
    }

    /// Panels one above the other on one time axis, each with its title (if any) and the bands.
    static func chart(_ name: String, title: String, caption: String, y: Axis, end: Double, panels: [(title: String?, series: [Series])],
                      bands: FaultBands) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let height = panels.count == 1 ? 240.0 : 150.0, gap = 52.0
        var bottom = 0.0
        for (index, panel) in panels.enumerated() {
            var plot = ChartFrame.plot(x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 6), y: y, height: height)
            plot.top += Double(index) * (height + gap)
            bands.draw(&svg, plot)
            plot.drawAxes(&svg)
            if let title = panel.title { svg.text(plot.right, plot.top - 4, title, anchor: "end", size: 11, [("font-weight", "bold")]) }
            for line in panel.series { ChartFrame.line(&svg, plot, line.label, line.style, line.points.map { ($0.t, $0.value) }) }
            bottom = plot.bottom
        }
        bottom = ChartFrame.legend(&svg, panels[0].series.map { LegendEntry(label: $0.label, sample: .line($0.style)) } + bands.legend, top: bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }
}
