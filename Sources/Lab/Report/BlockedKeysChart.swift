import Simulator

/// Which keys atomic commit left unavailable, and when: a lane per key, a panel per 2PC/3PC
/// variant (the roles chart's seed), the key drawn blocked while a participant that voted YES on a write
/// of it waited in doubt (`in-doubt` lines of `InDoubtSpan.blocking` or more). A participant holds
/// the key's lock until it learns the decision, so there a write of the key is refused and a read
/// waits; other keys go on. Omitted when no key of the group was blocked.
enum BlockedKeysChart {
    static let laneHeight = 14.0
    static let headerHeight = 18.0
    /// Keys drawn per panel: those blocked first; the panel says how many more there were.
    static let keysShown = 24

    static func chart(_ group: ScenarioGroup, _ data: ReportData) throws -> Chart? {
        let end = try Aggregate.timeEnd(group.runs, data) * 1000
        let panels = try group.variants.compactMap { variant -> (ScenarioGroup.Variant, ReportData.Run, [(key: String, spans: [ClosedRange<Double>], nodes: [String])])? in
            let run = try RoleTimelineChart.shownRun(variant)
            guard Backends.named(run.protocolName)?.atomicCommit == true else { return nil }
            return (variant, run, Aggregate.blockedKeys(data.events[run.id] ?? [], end: end))
        }
        guard panels.contains(where: { !$0.2.isEmpty }) else { return nil }
        let bands = Aggregate.faultBands(panels.map(\.1), data)
        let name = group.key + "-blocked-keys", title = "\(group.title): keys blocked by in-doubt transactions"
        let caption = "Per 2PC/3PC backend, in the seed of the roles chart (its longest wait in doubt): a lane per key that a participant held locked while in doubt for "
            + "\(RoleTimelineChart.blockingText) or more (it had voted YES on a write of the key and waited for the decision); there the key "
            + "refuses writes and holds reads until the decision arrives. The label names the participants (in-doubt lines in events.csv)."
            + bands.caption
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let height = panels.map { headerHeight + Double(min($0.2.count, keysShown)) * laneHeight + 6 }.reduce(0, +)
        let plot = ChartFrame.plot(x: .linear(0, max(end / 1000, 1), title: "time since start (s)", tickCount: 6), y: .fixed(0, 1, step: 1, title: ""),
                                   height: height)
        plot.drawAxes(&svg, yTicks: false)
        var y = plot.top
        for (variant, run, keys) in panels {
            svg.group([("class", "series"), ("data-series", variant.label)]) { svg in
                let more = keys.count > keysShown ? " (the first \(keysShown) of \(keys.count) keys)" : ""
                svg.text(plot.left + 4, y + 13, "\(variant.label) (seed \(run.seed))"
                         + (keys.isEmpty ? ": no key blocked for \(RoleTimelineChart.blockingText) or more" : more), size: 11, [("font-weight", "bold")])
                y += headerHeight
                for blocked in keys.prefix(keysShown) {
                    svg.text(plot.left - 6, y + laneHeight - 3, blocked.key, anchor: "end", size: 9)
                    svg.line(plot.left, y + laneHeight / 2, plot.right, y + laneHeight / 2, [("stroke", Ink.grid), ("stroke-width", "0.6")])
                    for span in blocked.spans {
                        let x1 = plot.px(span.lowerBound / 1000), x2 = max(plot.px(span.upperBound / 1000), x1 + 1.5)
                        svg.rect(x1, y + 2, x2 - x1, laneHeight - 4, [("fill", RoleTimelineChart.inDoubtColour)])
                    }
                    let label = blocked.nodes.joined(separator: ",")
                    if let first = blocked.spans.first, plot.px(first.upperBound / 1000) - plot.px(first.lowerBound / 1000) >= Double(label.count) * 5 + 6 {
                        svg.text(plot.px(first.lowerBound / 1000) + 3, y + laneHeight - 4, label, size: 8, [("fill", "white")])
                    }
                    y += laneHeight
                }
                y += 6
            }
        }
        bands.draw(&svg, plot)
        let entries = [LegendEntry(label: "blocked: a participant in doubt holds the key's lock", sample: .fill(RoleTimelineChart.inDoubtColour, hatch: nil))]
        var bottom = ChartFrame.legend(&svg, entries + bands.legend, top: plot.bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }
}
