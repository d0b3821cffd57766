import ConsensusCore

/// The whole run at a glance, to find a window worth replaying: each node's role and term over
/// time (the rows of `RoleTimelineChart`), the fault windows shaded, the anomalies ticked under
/// the rows, and the window the diagram below shows outlined.
enum ReplayOverviewChart {
    static let window = "#0072B2"

    static func chart(_ model: ReplayModel) -> Chart {
        let result = model.result, end = result.end.milliseconds / 1000
        let spans = SpaceTimeChart.roleSpans(model)
        let roles = RoleTimelineChart.roleNames(spans)
        let windows = FaultWindow.windows(result).map {
            ReportData.Window(start: $0.start.milliseconds, end: $0.end.milliseconds, faults: $0.faults.joined(separator: "; "))
        }
        let bands = FaultBands(windows: windows, shares: windows.map { _ in 1 }, seeds: [model.spec.seed])
        let name = "replay-overview-\(model.spec.id)".fileSafe
        let title = "\(model.spec.id): roles and terms over the whole run"
        let caption = "Role of each node over time (the label in a bar is the term); down: from a crash to the restart. "
            + "Outlined: the window the diagram below shows. Ticks under the rows: when the operations of each anomaly ran." + bands.caption
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let rowsHeight = Double(model.spec.scenario.nodes) * RoleTimelineChart.rowHeight + 4
        let plot = ChartFrame.plot(x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 8), y: .fixed(0, 1, step: 1, title: ""),
                                   height: rowsHeight + 14)
        plot.drawAxes(&svg, yTicks: false)
        let rowsBottom = RoleTimelineChart.rows(&svg, plot, spans, roles: roles, top: plot.top + 2)
        bands.draw(&svg, plot)
        for anomaly in model.anomalies {
            guard let start = anomaly.start, let stop = anomaly.end else { continue }
            let x1 = plot.px(start.milliseconds / 1000), x2 = max(plot.px(stop.milliseconds / 1000), x1 + 1.5)
            svg.group([("class", "anomaly")]) { svg in
                svg.add(SVG.tag("title", [], content: SVG.escape("\(anomaly.title), \(ReplayMoment.seconds(start))–\(ReplayMoment.seconds(stop)) s")))
                svg.rect(x1, rowsBottom + 2, x2 - x1, 8, [("fill", SpaceTimeChart.anomalyInk)])
            }
        }
        let x1 = plot.px(model.window.start.milliseconds / 1000), x2 = max(plot.px(model.window.end.milliseconds / 1000), x1 + 2)
        svg.rect(x1, plot.top - 2, x2 - x1, plot.height + 4, [("fill", "none"), ("stroke", window), ("stroke-width", "2.5"), ("class", "window")])
        let entries = RoleTimelineChart.legend(roles) + bands.legend
            + [LegendEntry(label: "window shown below", sample: .fill(window, hatch: nil)),
               LegendEntry(label: "anomaly", sample: .fill(SpaceTimeChart.anomalyInk, hatch: nil))]
        var bottom = ChartFrame.legend(&svg, entries, top: plot.bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }
}
