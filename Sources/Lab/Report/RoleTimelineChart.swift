import Simulator

/// Who held which role when: a row per node, a panel per backend variant (one seed: `shownRun`), from
/// the `role` events (their `role` and `term` columns), with `crash` to `restart` drawn as down time.
/// Atomic-commit backends have no roles; each node gets two lanes under its row instead, so that a
/// participant blocked until its coordinator returns shows: `coordinator` (participants waited in
/// doubt on a transaction it coordinates) and `in doubt` (it waited for a decision), from the
/// `coordinator` and `in-doubt` lines (waits of `InDoubtSpan.blocking` or more).
enum RoleTimelineChart {
    static let rowHeight = 16.0
    static let laneHeight = 11.0
    static let headerHeight = 18.0

    struct Panel {
        var variant: ScenarioGroup.Variant
        var run: ReportData.Run
        var nodes: [[Aggregate.RoleSpan]]
        var atomicCommit: Bool
        /// Per node, for atomic-commit backends with a blocking wait: the coordinator and in-doubt lanes.
        var lanes: (coordinator: [[ClosedRange<Double>]], inDoubt: [[ClosedRange<Double>]])?

        var height: Double {
            headerHeight + Double(nodes.count) * (rowHeight + (lanes == nil ? 0 : 2 * laneHeight + 4)) + 6
        }
    }

    static func chart(_ group: ScenarioGroup, _ data: ReportData) throws -> Chart {
        let end = try Aggregate.timeEnd(group.runs, data)
        let panels = try group.variants.map { variant -> Panel in
            let run = try shownRun(variant)
            let events = data.events[run.id] ?? []
            let atomic = Backends.named(run.protocolName)?.atomicCommit == true
            let inDoubt = Aggregate.doubtSpans(events, kind: "in-doubt", nodes: run.nodes, end: end * 1000)
            // Empty lanes would only repeat the header's "no participant in doubt".
            return Panel(variant: variant, run: run, nodes: Aggregate.roleSpans(events, nodes: run.nodes, end: end * 1000), atomicCommit: atomic,
                         lanes: atomic && !inDoubt.joined().isEmpty
                             ? (Aggregate.doubtSpans(events, kind: "coordinator", nodes: run.nodes, end: end * 1000), inDoubt) : nil)
        }
        // Theirs are the windows to shade: one seed per variant.
        let bands = Aggregate.faultBands(panels.map(\.run), data)
        let roles = roleNames(panels.flatMap(\.nodes))
        let atomic = panels.contains(where: \.atomicCommit)
        let name = group.key + "-roles", title = "\(group.title): roles over time"
        let caption = "Role of each node over time, per backend, in its lowest seed (2PC and 3PC: the seed with the longest wait in doubt, "
            + "if one waited \(blockingText) or more); role events in events.csv; the label in a bar is the term. "
            + "Down: from a crash to the restart; blank: not started yet."
            + (atomic ? " 2PC and 3PC have no roles; where a participant waited in doubt for \(blockingText) or more, each node gets two lanes: "
                + "coordinator (participants waited in doubt on a transaction it coordinates) and in doubt (it voted YES and waited for the "
                + "decision, holding the key's lock), from the coordinator and in-doubt lines of events.csv." : "")
            + bands.caption
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let plot = ChartFrame.plot(x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 6), y: .fixed(0, 1, step: 1, title: ""),
                                   height: panels.map(\.height).reduce(0, +))
        plot.drawAxes(&svg, yTicks: false)
        var y = plot.top
        for panel in panels {
            svg.group([("class", "series"), ("data-series", panel.variant.label)]) { svg in
                svg.text(plot.left + 4, y + 13, "\(panel.variant.label) (seed \(panel.run.seed))" + headerNote(panel), size: 11, [("font-weight", "bold")])
                y += headerHeight
                for (index, spans) in panel.nodes.enumerated() {
                    y = row(&svg, plot, index, spans, roles: roles, top: y)
                    guard let lanes = panel.lanes else { continue }
                    for (label, colour, spans) in [("coordinator", coordinatorColour, lanes.coordinator[index]), ("in doubt", inDoubtColour, lanes.inDoubt[index])] {
                        svg.text(plot.left - 6, y + laneHeight - 2, label, anchor: "end", size: 8, [("fill", Ink.note)])
                        svg.line(plot.left, y + laneHeight / 2, plot.right, y + laneHeight / 2, [("stroke", Ink.grid), ("stroke-width", "0.6")])
                        for span in spans {
                            svg.rect(plot.px(span.lowerBound / 1000), y + 1, max(plot.px(span.upperBound / 1000) - plot.px(span.lowerBound / 1000), 1.5),
                                     laneHeight - 2, [("fill", colour)])
                        }
                        y += laneHeight
                    }
                    y += 4
                }
                y += 6
            }
        }
        bands.draw(&svg, plot)
        var entries = legend(roles)
        if panels.contains(where: { $0.lanes != nil }) {
            entries.append(LegendEntry(label: "coordinator: participants in doubt", sample: .fill(coordinatorColour, hatch: nil)))
            entries.append(LegendEntry(label: "in doubt: waiting for the decision", sample: .fill(inDoubtColour, hatch: nil)))
        }
        var bottom = ChartFrame.legend(&svg, entries + bands.legend, top: plot.bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    /// The run a panel draws: the variant's lowest seed; for 2PC and 3PC, the seed whose
    /// participants waited in doubt longest, if one waited `blockingText` or more (the lowest seed
    /// among equals), so that blocking shows wherever a seed had it.
    static func shownRun(_ variant: ScenarioGroup.Variant) throws -> ReportData.Run {
        let bySeed = variant.runs.sorted { $0.seed < $1.seed }
        guard Backends.named(bySeed[0].protocolName)?.atomicCommit == true else { return bySeed[0] }
        let waits = try bySeed.map { try $0.row.numberIfPresent("in_doubt_max_ms") ?? 0 }
        guard let longest = waits.max(), longest >= InDoubtSpan.blocking.milliseconds else { return bySeed[0] }
        return bySeed[waits.firstIndex(of: longest)!]
    }

    /// After a panel's name: what its rows cannot show by themselves.
    static func headerNote(_ panel: Panel) -> String {
        if panel.atomicCommit { return panel.lanes == nil ? ": no roles; no participant in doubt for \(blockingText) or more" : ": no roles" }
        return panel.nodes.joined().contains { if case .role = $0.state { true } else { false } } ? "" : ": no roles reported"
    }

    /// `1,000 ms`: the shortest wait in doubt the charts draw.
    static var blockingText: String { "\(Number.grouped(Int(InDoubtSpan.blocking.milliseconds))) ms" }
    /// Outside the series palette: a role of another backend in the same chart never shares them.
    static let coordinatorColour = "#5E3C99"
    static let inDoubtColour = "#B2182B"

    static let upColour = "#E4E4E4"

    /// The roles the spans name, sorted: a role's rank is its colour.
    static func roleNames(_ nodes: [[Aggregate.RoleSpan]]) -> [String] {
        var roles: [String] = []
        for span in nodes.joined() { if case .role(let name) = span.state, !roles.contains(name) { roles.append(name) } }
        return roles.sorted()
    }

    /// A row per node (`n1`, `n2`, …) from `top`; returns the bottom of the last row.
    static func rows(_ svg: inout SVG, _ plot: Plot, _ nodes: [[Aggregate.RoleSpan]], roles: [String], top: Double) -> Double {
        var y = top
        for (index, spans) in nodes.enumerated() { y = row(&svg, plot, index, spans, roles: roles, top: y) }
        return y
    }

    /// Node `index`'s row from `top`; returns its bottom.
    static func row(_ svg: inout SVG, _ plot: Plot, _ index: Int, _ spans: [Aggregate.RoleSpan], roles: [String], top: Double) -> Double {
        svg.text(plot.left - 6, top + rowHeight / 2 + 4, "n\(index + 1)", anchor: "end", size: 10)
        for span in spans { draw(&svg, plot, span, y: top + 2, roles: roles) }
        return top + rowHeight
    }

    /// The key to the rows: each role's colour, running without a role, down.
    static func legend(_ roles: [String]) -> [LegendEntry] {
        roles.enumerated().map { LegendEntry(label: $1, sample: .swatch(SeriesStyle(index: $0))) }
            + [LegendEntry(label: "running, no role reported", sample: .fill(upColour, hatch: nil)),
               LegendEntry(label: "down", sample: .fill("white", hatch: SeriesStyle.crossHatch))]
    }

    static func draw(_ svg: inout SVG, _ plot: Plot, _ span: Aggregate.RoleSpan, y: Double, roles: [String]) {
        let x1 = plot.px(span.start / 1000), x2 = plot.px(span.end / 1000), height = rowHeight - 4
        switch span.state {
        case .role(let name):
            SeriesStyle(index: roles.firstIndex(of: name)!).bar(&svg, x1, y, x2 - x1, height)
            if x2 - x1 >= 22, !span.term.isEmpty {
                svg.text((x1 + x2) / 2, y + height - 2.5, "t\(span.term)", anchor: "middle", size: 9,
                         [("stroke", "white"), ("stroke-width", "3"), ("paint-order", "stroke")])
            }
        case .up:
            svg.rect(x1, y, x2 - x1, height, [("fill", upColour)])
        case .down:
            svg.rect(x1, y, x2 - x1, height, [("fill", "white"), ("stroke", Ink.axis), ("stroke-width", "0.6")])
            svg.rect(x1, y, x2 - x1, height, [("fill", SeriesStyle.hatchFill(SeriesStyle.crossHatch, in: svg))])
        }
    }
}
