/// Lines over the run's time, one per backend variant, on the scenario's fault windows:
/// availability, throughput, and latency p50 and p99 per window of `timeseries.csv`.
enum TimeSeriesChart {
    struct Series {
        var label: String
        var style: SeriesStyle
        var points: [(t: Double, value: Double?)]
    }

    static func charts(_ group: ScenarioGroup, _ data: ReportData) throws -> [Chart] {
        let (bands, seed) = Aggregate.faultBands(group.runs, data)
        let end = try Aggregate.timeEnd(group.runs, data)
        func series(_ value: (CSVReader.Row) throws -> Double?) throws -> [Series] {
            try group.variants.map { Series(label: $0.label, style: $0.style, points: try Aggregate.perWindow($0.runs, data, value)) }
        }
        let seeds = seedsText(group)
        let shading = seed.map { " Shaded: the fault windows of seed \($0) (faults.csv)." } ?? ""
        let availability = try series { try $0.number("availability").map { $0 * 100 } }
        let throughput = try series { row in
            let width = try row.number("window_ms") ?? 0
            return width > 0 ? Double(try row.int("ops_ok")) / (width / 1000) : nil
        }
        let p50 = try series { try $0.number("latency_p50_ms") }, p99 = try series { try $0.number("latency_p99_ms") }
        return [
            chart(group.key + "-availability", title: "\(group.title): availability over time",
                  caption: "Share of the operations invoked in each window that the system served (ok, or a compare-and-set that compared), "
                      + "mean over \(seeds) per window; a gap is a window in which no operation was invoked.\(shading)",
                  y: .fixed(0, 100, step: 20, title: "availability (%)"), end: end, series: availability, bands: bands, seed: seed),
            chart(group.key + "-throughput", title: "\(group.title): throughput over time",
                  caption: "Operations completed ok per second of invocation time, mean over \(seeds) per window.\(shading)",
                  y: .linear(0, maxValue(throughput), title: "throughput (ops/s)"), end: end, series: throughput, bands: bands, seed: seed),
            latency(group, "p50", p50, seeds: seeds, shading: shading, end: end, bands: bands, seed: seed),
            latency(group, "p99", p99, seeds: seeds, shading: shading, end: end, bands: bands, seed: seed),
        ]
    }

    static func latency(_ group: ScenarioGroup, _ quantile: String, _ series: [Series], seeds: String, shading: String, end: Double,
                        bands: [ReportData.Window], seed: UInt64?) -> Chart {
        let values = series.flatMap { $0.points.compactMap(\.value) }.filter { $0 > 0 }
        return chart(group.key + "-latency-\(quantile)", title: "\(group.title): latency \(quantile) over time",
                     caption: "The \(quantile) latency of the operations served in each window (nearest rank), mean over \(seeds) per window; "
                         + "logarithmic scale.\(shading)",
                     y: .logarithmic(values.min() ?? 1, values.max() ?? 10, title: "latency \(quantile) (ms)"), end: end, series: series,
                     bands: bands, seed: seed)
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

    static func chart(_ name: String, title: String, caption: String, y: Axis, end: Double, series: [Series],
                      bands: [ReportData.Window], seed: UInt64?) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let plot = Plot(left: ChartFrame.plotLeft, top: ChartFrame.plotTop, width: ChartFrame.width - ChartFrame.plotLeft - 20, height: 240,
                        x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 6), y: y)
        ChartFrame.faultBands(&svg, plot, bands)
        plot.drawAxes(&svg)
        for line in series { draw(&svg, plot, line) }
        var entries = series.map { LegendEntry(label: $0.label, sample: .line($0.style)) }
        if let seed, !bands.isEmpty { entries.append(LegendEntry(label: "fault window (seed \(seed))", sample: .fill(Ink.faultBand, hatch: nil))) }
        var bottom = ChartFrame.legend(&svg, entries, top: plot.bottom + 38)
        bottom = ChartFrame.faultKey(&svg, bands, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, title: title, caption: caption, bottom: bottom)
    }

    /// The series as polylines broken at gaps, with a marker every few points (and on every point
    /// that stands alone), offset per series so that markers of overlapping lines stay apart.
    static func draw(_ svg: inout SVG, _ plot: Plot, _ series: Series) {
        let step = max(1, (series.points.count + 11) / 12), phase = series.style.index % step
        svg.group([("class", "series"), ("data-series", series.label)]) { svg in
            var segment: [(x: Double, y: Double)] = []
            func flush() {
                if segment.count > 1 { svg.polyline(segment, series.style.lineAttributes) }
                if segment.count == 1 { svg.add(series.style.markerElement(segment[0].x, segment[0].y)) }
                segment = []
            }
            for point in series.points {
                guard let value = point.value else { flush(); continue }
                segment.append((plot.px(point.t), plot.py(value)))
            }
            flush()
            for (index, point) in series.points.enumerated() where index % step == phase {
                if let value = point.value { svg.add(series.style.markerElement(plot.px(point.t), plot.py(value))) }
            }
        }
    }
}
