/// Bars per backend variant: the mean over seeds, with a whisker from the lowest to the highest
/// seed. Per scenario: availability, throughput, messages per operation and anomalies side by
/// side; across a suite's scenarios: one chart per measure, grouped by scenario.
enum BarChart {
    struct Bar {
        var variant: ScenarioGroup.Variant
        /// One value per seed that has one.
        var values: [Double]
        /// Drawn above the bar: "✗2/5" when 2 of 5 seeds were found not linearizable.
        var mark: String?
    }

    struct Category {
        var label: String
        var bars: [Bar]
    }

    /// One measure taken from `summary.csv`.
    struct Measure {
        var key: String
        var title: String
        var axis: String
        var digits: Int
        /// Availability is drawn on 0–100 %.
        var fixedTop: Double?
        /// The axis reaches at least this far (anomaly counts: whole-number ticks even when all are 0).
        var minimumTop = 1.0
        var value: (ReportData.Run) throws -> Double?

        static var all: [Measure] { [
            Measure(key: "availability", title: "Availability", axis: "availability (%)", digits: 1, fixedTop: 100) {
                try $0.row.number("availability").map { $0 * 100 }
            },
            Measure(key: "throughput", title: "Throughput", axis: "throughput (ops/s)", digits: 0, fixedTop: nil) { try $0.row.number("throughput_ops_s") },
            Measure(key: "messages", title: "Messages per operation", axis: "messages per ok operation", digits: 2, fixedTop: nil) {
                try $0.row.number("msgs_per_op")
            },
            Measure(key: "anomalies", title: "Anomalies", axis: "anomalies per run", digits: 1, fixedTop: nil, minimumTop: 4) { run in
                try ReportData.anomalyColumns.map { try run.row.number($0) ?? 0 }.reduce(0, +)
            },
        ] }

        func bar(_ variant: ScenarioGroup.Variant) throws -> Bar {
            let values = try variant.runs.compactMap(value)
            let failed = variant.runs.filter { $0.row.string("linearizable") == "false" }.count
            return Bar(variant: variant, values: values, mark: key == "anomalies" && failed > 0 ? "✗\(failed)/\(variant.runs.count)" : nil)
        }
    }

    static let caption = "Bars: mean over seeds; whiskers: lowest and highest seed. Anomalies: stale reads + lost writes + divergent keys "
        + "+ atomicity violations per run (summary.csv); ✗k/n: the linearizability check failed in k of n seeds."

    /// The four measures of one scenario in a 2 × 2 grid.
    static func scenarioChart(_ group: ScenarioGroup) throws -> Chart {
        let panels = try Measure.all.map { measure in
            (measure, [Category(label: group.title, bars: try group.variants.map(measure.bar))])
        }
        return chart(group.key + "-bars", title: "\(group.title): per backend", panels: panels, columns: 2, variants: group.variants,
                     caption: caption + " Seeds per backend: see the table.")
    }

    /// Bars narrower than this lose their hatch: a suite with many scenarios and backends gets
    /// several rows of scenarios rather than thinner bars.
    static let narrowestBar = 14.0

    /// One chart per measure across the scenarios of a suite, on one scale.
    static func suiteCharts(_ groups: [ScenarioGroup]) throws -> [Chart] {
        let variants = ScenarioGroup.allVariants(groups)
        let perRow = max(1, Int(panelPlotWidth(columns: 1) * 0.8 / (narrowestBar * Double(variants.count))))
        return try Measure.all.map { measure in
            let categories = try groups.map { group in Category(label: group.title, bars: try group.variants.map(measure.bar)) }
            let rows = stride(from: 0, to: categories.count, by: perRow).map { (measure, Array(categories[$0..<min($0 + perRow, categories.count)])) }
            return chart("suite-\(measure.key)", title: "\(measure.title) by scenario", panels: rows, columns: 1, variants: variants,
                         caption: caption, slotsPerPanel: min(perRow, categories.count))
        }
    }

    static func panelWidth(columns: Int) -> Double { (ChartFrame.width - 2 * ChartFrame.margin) / Double(columns) }
    static func panelPlotWidth(columns: Int) -> Double { panelWidth(columns: columns) - 58 - 12 }

    /// Panels of bars; each panel's width is divided into `slotsPerPanel` categories, so that bars
    /// keep one width across the rows of a suite chart.
    static func chart(_ name: String, title: String, panels: [(Measure, [Category])], columns: Int, variants: [ScenarioGroup.Variant],
                      caption: String, slotsPerPanel: Int = 1) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let labelled = panels.contains { $0.1.count > 1 }, titled = Set(panels.map(\.0.key)).count > 1
        let panelHeight = 190.0 + (labelled ? 90 : 0)
        let slots = variants.map(\.label)
        for (index, (measure, categories)) in panels.enumerated() {
            let left = ChartFrame.margin + Double(index % columns) * panelWidth(columns: columns)
            let top = ChartFrame.plotTop + Double(index / columns) * panelHeight
            // Panels of one measure share its scale.
            let highest = panels.filter { $0.0.key == measure.key }.flatMap { $0.1.flatMap { $0.bars.flatMap(\.values) } }.max() ?? 0
            let axis: Axis = measure.fixedTop.map { .fixed(0, $0, step: $0 / 5, title: measure.axis) }
                ?? .linear(0, max(highest, measure.minimumTop), title: measure.axis, tickCount: 4)
            let plot = Plot(left: left + 58, top: top + 18, width: panelPlotWidth(columns: columns), height: 150,
                            x: .fixed(0, 1, step: 1, title: ""), y: axis)
            if titled { svg.text(plot.left, top + 10, measure.title, size: 12, [("font-weight", "bold")]) }
            plot.drawAxes(&svg, xTicks: false)
            draw(&svg, plot, categories, capacity: max(categories.count, slotsPerPanel), slots: slots, digits: measure.digits, labelled: labelled)
        }
        let rows = Double((panels.count + columns - 1) / columns)
        var bottom = ChartFrame.legend(&svg, variants.map { LegendEntry(label: $0.label, sample: .swatch($0.style)) },
                                       top: ChartFrame.plotTop + rows * panelHeight - 10, left: ChartFrame.margin + 58)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    /// Bars of each category side by side, each variant in its own slot (a gap where a category lacks it).
    static func draw(_ svg: inout SVG, _ plot: Plot, _ categories: [Category], capacity: Int, slots: [String], digits: Int, labelled: Bool) {
        let categoryWidth = plot.width / Double(capacity)
        let slot = min(categoryWidth * 0.8 / Double(max(slots.count, 1)), 70)
        let inset = (categoryWidth - slot * Double(slots.count)) / 2
        for (column, category) in categories.enumerated() {
            let categoryLeft = plot.left + Double(column) * categoryWidth
            for bar in category.bars {
                guard let position = slots.firstIndex(of: bar.variant.label) else { continue }
                let x = categoryLeft + inset + Double(position) * slot + slot * 0.1, width = slot * 0.8, centre = x + width / 2
                svg.group([("class", "series"), ("data-series", bar.variant.label)]) { svg in
                    guard !bar.values.isEmpty else {
                        svg.text(centre, plot.bottom - 3, "n/a", anchor: "middle", size: 8)
                        return
                    }
                    let mean = bar.values.reduce(0, +) / Double(bar.values.count)
                    bar.variant.style.bar(&svg, x, plot.py(mean), width, plot.bottom - plot.py(mean))
                    let low = bar.values.min()!, high = bar.values.max()!
                    if high > low {
                        svg.line(centre, plot.py(low), centre, plot.py(high), [("stroke", "black"), ("stroke-width", "1")])
                        for end in [low, high] { svg.line(centre - 3, plot.py(end), centre + 3, plot.py(end), [("stroke", "black"), ("stroke-width", "1")]) }
                    }
                    var labelY = plot.py(high) - 3
                    if slot >= 24 { svg.text(centre, labelY, Number.fixed(mean, digits), anchor: "middle", size: 8); labelY -= 10 }
                    if let mark = bar.mark { svg.text(centre, labelY, mark, anchor: "middle", size: 9, [("font-weight", "bold")]) }
                }
            }
            if labelled {
                let x = categoryLeft + categoryWidth / 2, y = plot.bottom + 10
                svg.text(x, y, category.label.count > 24 ? String(category.label.prefix(23)) + "…" : category.label, anchor: "end", size: 9,
                         [("transform", "rotate(-40 \(SVG.number(x)) \(SVG.number(y)))")])
            }
        }
    }
}
