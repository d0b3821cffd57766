/// Who held which role when: a row per node, a panel per backend variant (its lowest seed), from
/// the `role` events (their `role` and `term` columns), with `crash` to `restart` drawn as down time.
enum RoleTimelineChart {
    static let rowHeight = 16.0
    static let headerHeight = 18.0

    static func chart(_ group: ScenarioGroup, _ data: ReportData) throws -> Chart {
        let end = try Aggregate.timeEnd(group.runs, data)
        let panels = group.variants.map { variant -> (ScenarioGroup.Variant, ReportData.Run, [[Aggregate.RoleSpan]]) in
            let run = variant.runs.min { $0.seed < $1.seed }!
            return (variant, run, Aggregate.roleSpans(data.events[run.id] ?? [], nodes: run.nodes, end: end * 1000))
        }
        // The runs drawn are each variant's lowest seed: theirs are the windows to shade.
        let bands = Aggregate.faultBands(panels.map(\.1), data)
        let roles = roleNames(panels.flatMap(\.2))
        let name = group.key + "-roles", title = "\(group.title): roles over time"
        let caption = "Role of each node over time, per backend, in its lowest seed (role events in events.csv; the label in a bar is the term). "
            + "Down: from a crash to the restart; blank: not started yet." + bands.caption
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let height = panels.map { headerHeight + Double($0.2.count) * rowHeight + 6 }.reduce(0, +)
        let plot = ChartFrame.plot(x: .linear(0, max(end, 1), title: "time since start (s)", tickCount: 6), y: .fixed(0, 1, step: 1, title: ""),
                                   height: height)
        plot.drawAxes(&svg, yTicks: false)
        var y = plot.top
        for (variant, run, nodes) in panels {
            svg.group([("class", "series"), ("data-series", variant.label)]) { svg in
                let reportsRoles = nodes.joined().contains { if case .role = $0.state { true } else { false } }
                svg.text(plot.left + 4, y + 13, "\(variant.label) (seed \(run.seed))" + (reportsRoles ? "" : ": no roles reported"), size: 11,
                         [("font-weight", "bold")])
                y = rows(&svg, plot, nodes, roles: roles, top: y + headerHeight) + 6
            }
        }
        bands.draw(&svg, plot)
        var bottom = ChartFrame.legend(&svg, legend(roles) + bands.legend, top: plot.bottom + 38)
        bottom = bands.key(&svg, top: bottom)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

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
        for (index, spans) in nodes.enumerated() {
            svg.text(plot.left - 6, y + rowHeight / 2 + 4, "n\(index + 1)", anchor: "end", size: 10)
            for span in spans { draw(&svg, plot, span, y: y + 2, roles: roles) }
            y += rowHeight
        }
        return y
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
