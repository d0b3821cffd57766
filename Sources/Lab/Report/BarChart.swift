/// Bars per backend variant: the mean over seeds, with a whisker from the lowest to the highest
/// seed, drawn horizontally with the variant's name beside its bar. A suite has a score of
/// variants: no reader should have to match a bar to a legend by colour, and no panel should be
/// left for the reader to identify.
///
/// Per scenario, a panel per measure, each on its own scale; across a suite's scenarios, one chart
/// per measure (availability, each side's availability during faults, throughput, messages,
/// each kind of anomaly) with a panel per scenario, all on one scale so that any bar compares
/// with any other.
enum BarChart {
    struct Bar {
        var variant: ScenarioGroup.Variant
        /// One value per seed that has one.
        var values: [Double]
        /// Drawn after the value: "✗2/5" when 2 of 5 seeds were found not linearizable.
        var mark: String?
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
        /// The `summary.csv` column read.
        var column: String?
        var value: (ReportData.Run) throws -> Double?

        static func share(_ key: String, _ title: String, _ axis: String, _ column: String) -> Measure {
            Measure(key: key, title: title, axis: axis, digits: 1, fixedTop: 100, column: column) { try $0.row.number(column).map { $0 * 100 } }
        }

        static func count(_ key: String, _ title: String, _ axis: String, _ column: String) -> Measure {
            Measure(key: key, title: title, axis: axis, digits: 1, fixedTop: nil, minimumTop: 4, column: column) { try $0.row.number(column) }
        }

        /// Every measure, one chart each across a suite; availability on each side of a partition
        /// and each kind of anomaly apart, since which side stays available, and whether a system
        /// serves stale reads or loses acknowledged writes, are different lessons.
        static var all: [Measure] { [
            share("availability", "Availability", "availability (%)", "availability"),
            share("availability-majority", "Availability during faults, majority side", "served on the majority side (%)", "availability_majority_side"),
            share("availability-minority", "Availability during faults, minority side", "served on the minority side (%)", "availability_minority_side"),
            Measure(key: "throughput", title: "Throughput", axis: "throughput (ops/s)", digits: 0, fixedTop: nil, column: "throughput_ops_s") {
                try $0.row.number("throughput_ops_s")
            },
            Measure(key: "messages", title: "Messages per operation", axis: "messages per ok operation", digits: 2, fixedTop: nil, column: "msgs_per_op") {
                try $0.row.number("msgs_per_op")
            },
            Measure(key: "linearizability", title: "Linearizability failures", axis: "seeds found not linearizable (%)", digits: 0, fixedTop: 100,
                    column: "linearizable") { $0.row.string("linearizable") == "false" ? 100 : 0 },
            count("stale-reads", "Stale reads", "stale reads per run", "stale_reads"),
            count("lost-writes", "Lost acknowledged writes", "lost writes per run", "lost_writes"),
            count("divergent-keys", "Divergent keys", "divergent keys per run", "divergent_keys"),
            count("atomicity", "Atomicity violations", "atomicity violations per run", "atomicity_violations"),
        ] }

        var whiskers: Bool { column != "linearizable" }

        func bar(_ variant: ScenarioGroup.Variant) throws -> Bar {
            let values = try variant.runs.compactMap(value)
            guard column == "linearizable" else { return Bar(variant: variant, values: values, mark: nil) }
            let verdicts = variant.runs.map { $0.row.string("linearizable") }
            let failed = verdicts.filter { $0 == "false" }.count, unknown = verdicts.filter { $0 == "unknown" }.count
            let mark = (failed > 0 ? "✗\(failed)/\(verdicts.count)" : "") + (unknown > 0 ? " ?\(unknown)/\(verdicts.count)" : "")
            return Bar(variant: variant, values: values, mark: mark.isEmpty ? nil : mark.trimmingCharacters(in: .whitespaces))
        }

        /// The scale of bars up to `highest`: availability on 0–100 %, counts from 0.
        func axis(_ highest: Double) -> Axis {
            fixedTop.map { .fixed(0, $0, step: $0 / 4, title: axis) } ?? .linear(0, max(highest, minimumTop), title: axis, tickCount: 3)
        }
    }

    /// Wider than other charts: two columns of panels, each with room for a variant's whole name.
    static let width = 960.0
    static let columns = 2
    static let rowHeight = 15.0
    static let panelGap = 14.0
    /// Room for a variant's name left of its bar (about 37 characters), and for the value right of it.
    static let labelWidth = 200.0
    static let valueWidth = 72.0

    static var panelWidth: Double { (width - 2 * ChartFrame.margin - panelGap * Double(columns - 1)) / Double(columns) }

    /// One scenario's measures, a panel each; a measure no run has a value for (availability by
    /// side without a partition) is left out rather than drawn empty.
    static func scenarioChart(_ group: ScenarioGroup) throws -> Chart {
        let panels = try Measure.all.compactMap { measure -> Panel? in
            let bars = try group.variants.map(measure.bar)
            guard bars.contains(where: { !$0.values.isEmpty }) else { return nil }
            return Panel(title: measure.title, bars: bars, axis: measure.axis(bars.flatMap(\.values).max() ?? 0), digits: measure.digits,
                         whiskers: measure.whiskers)
        }
        let caption = "Bars: mean over seeds; whiskers: lowest and highest seed; n/a: no run had a value (summary.csv); "
            + "✗k/n: the linearizability check failed in k of n seeds (?k/n: undecided). Seeds per backend: see the table."
        return chart(group.key + "-bars", title: "\(group.title): per backend", panels: panels, caption: caption)
    }

    /// One chart per measure across the scenarios of a suite, a panel per scenario, on one scale.
    /// A scenario none of whose runs has a value (no partition, for a side's availability) is
    /// named in the caption instead of drawn as a panel of "n/a".
    static func suiteCharts(_ groups: [ScenarioGroup]) throws -> [Chart] {
        try Measure.all.map { measure in
            let bars = try groups.map { group in try group.variants.map(measure.bar) }
            let axis = measure.axis(bars.flatMap { $0.flatMap(\.values) }.max() ?? 0)
            let drawn = zip(groups, bars).filter { $1.contains { !$0.values.isEmpty } }
            let panels = drawn.map { Panel(title: $0.title, bars: $1, axis: axis, digits: measure.digits, whiskers: measure.whiskers) }
            let left = groups.map(\.title).filter { title in !drawn.contains { $0.0.title == title } }
            let caption = "Bars: \(measure.axis), mean over seeds; whiskers: lowest and highest seed; n/a: no run had a value (summary.csv)."
                + (measure.column == "linearizable" ? " ✗k/n: the linearizability check failed in k of n seeds (?k/n: undecided)." : "")
                + (left.isEmpty ? "" : " No run had a value in \(left.joined(separator: ", ")).")
            return chart("suite-\(measure.key)", title: "\(measure.title) by scenario", panels: panels, caption: caption)
        }
    }

    struct Panel {
        var title: String
        var bars: [Bar]
        var axis: Axis
        var digits: Int
        /// Whether the spread of the seeds is drawn: not for a share of seeds (the linearizability
        /// failures), where each seed is 0 or 100 %.
        var whiskers: Bool
    }

    /// Panels in two columns, each going to the shorter column: the columns end close together,
    /// in an order fixed by the panels' order.
    static func chart(_ name: String, title: String, panels: [Panel], caption: String) -> Chart {
        var svg = ChartFrame.start(name, title: title, caption: caption, width: width)
        var tops = Array(repeating: ChartFrame.plotTop, count: columns)
        for panel in panels {
            let column = tops.indices.min { (tops[$0], $0) < (tops[$1], $1) }!
            let left = ChartFrame.margin + Double(column) * (panelWidth + panelGap)
            tops[column] = draw(&svg, panel, left: left, top: tops[column]) + panelGap
        }
        let bottom = ChartFrame.note(&svg, caption, top: tops.max()! - panelGap + 6)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    /// A panel: its title, a row per variant, the scale under them; returns its bottom.
    static func draw(_ svg: inout SVG, _ panel: Panel, left: Double, top: Double) -> Double {
        svg.text(left, top + 11, panel.title, size: 11, [("font-weight", "bold")])
        let plot = Plot(left: left + labelWidth, top: top + 18, width: panelWidth - labelWidth - valueWidth,
                        height: Double(panel.bars.count) * rowHeight, x: panel.axis, y: .fixed(0, 1, step: 1, title: ""))
        for tick in panel.axis.ticks {
            svg.line(plot.px(tick), plot.top, plot.px(tick), plot.bottom, [("stroke", Ink.grid), ("stroke-width", "0.8")])
            svg.text(plot.px(tick), plot.bottom + 10, panel.axis.label(tick), anchor: "middle", size: 8, [("class", "xtick")])
        }
        for (index, bar) in panel.bars.enumerated() {
            row(&svg, plot, bar, top: plot.top + Double(index) * rowHeight, digits: panel.digits, whiskers: panel.whiskers)
        }
        svg.line(plot.left, plot.top, plot.left, plot.bottom, [("stroke", Ink.axis), ("stroke-width", "1")])
        return plot.bottom + 12
    }

    /// A variant's row: its name, the mean over seeds as a bar, a whisker from the lowest to the
    /// highest seed, the mean's value and the linearizability mark.
    static func row(_ svg: inout SVG, _ plot: Plot, _ bar: Bar, top: Double, digits: Int, whiskers: Bool) {
        let label = bar.variant.label, middle = top + rowHeight / 2
        svg.group([("class", "series"), ("data-series", label)]) { svg in
            svg.text(plot.left - 4, middle + 3, label.count > 38 ? String(label.prefix(37)) + "…" : label, anchor: "end", size: 9)
            guard !bar.values.isEmpty else {
                svg.text(plot.left + 3, middle + 3, "n/a", size: 8, [("fill", Ink.note)])
                return
            }
            let mean = bar.values.reduce(0, +) / Double(bar.values.count)
            bar.variant.style.bar(&svg, plot.left, top + 2, plot.px(mean) - plot.left, rowHeight - 4)
            let low = bar.values.min()!, high = whiskers ? bar.values.max()! : mean
            if whiskers, high > low {
                svg.line(plot.px(low), middle, plot.px(high), middle, [("stroke", "black"), ("stroke-width", "1")])
                for end in [low, high] { svg.line(plot.px(end), middle - 3, plot.px(end), middle + 3, [("stroke", "black"), ("stroke-width", "1")]) }
            }
            let value = Number.fixed(mean, digits) + (bar.mark.map { " \($0)" } ?? "")
            svg.text(plot.px(high) + 3, middle + 3, value, size: 8, bar.mark == nil ? [] : [("font-weight", "bold")])
        }
    }
}
