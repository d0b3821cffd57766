import ConsensusCore

/// The operations of a non-linearizable key that cannot be ordered (the checker's `unorderable`
/// detail in `anomalies.jsonl`), drawn as Knossos and Porcupine draw a violation: a lane per client,
/// a bar per operation from invocation to completion, labelled with what it did, the operation no
/// order explains highlighted. Drawn from `anomalies.jsonl` alone: histories are not kept.
enum UnorderableChart {
    struct Operation {
        var id: Int
        var client: Int
        var node: Int?
        var invoke: Double
        /// `nil`: timed out, so it may have taken effect at any time after its invocation.
        var complete: Double?
        var label: String
        var outcome: String
    }

    static let laneHeight = 34.0
    /// Beyond this many operations (a long appended value read back brings every append that
    /// spells it), labels would overlap: only the culprit keeps one.
    static let labelled = 12

    /// The drawing of one anomaly, or `nil` when it has no `unorderable` detail; `name` makes its
    /// ids unique in the page.
    static func chart(_ anomaly: JSONValue, name: String, run: String) throws -> Chart? {
        guard let detail = anomaly["unorderable"] else { return nil }
        let (operations, culprit, count) = try parse(detail, run: run)
        guard let start = operations.map(\.invoke).min() else { return nil }
        let key = anomaly["key"].flatMap { if case .string(let key) = $0 { key } else { nil } } ?? "?"
        let latest = operations.map { $0.complete ?? $0.invoke }.max()!
        let span = max((latest - start) / 1000, 0.001)
        let clients = Array(Set(operations.map(\.client))).sorted()
        let title = "\(run), key \(key): \(count) operations that cannot be ordered"
        let caption = "One lane per client (and the node it used), a bar per operation from its invocation to its completion, "
            + "in ms since the first invocation; no order of these operations agrees with every result and with real time. "
            + "Highlighted: the operation the checker could not linearize. A timed-out operation runs to the right edge."
            + (count > operations.count ? " Drawn: the \(operations.count) of the \(count) invoked nearest the culprit (ops lists them all)." : "")
            + (operations.count > labelled ? " With more than \(labelled) operations only that one is labelled (the explanation lists them all)." : "")
        var svg = ChartFrame.start(name, title: title, caption: caption)
        let plot = ChartFrame.plot(x: .linear(0, span * 1.05, title: "time since the first invocation (ms)", tickCount: 6),
                                   y: .fixed(0, 1, step: 1, title: ""), height: Double(clients.count) * laneHeight)
        plot.drawAxes(&svg, yTicks: false)
        for (lane, client) in clients.enumerated() {
            let top = plot.top + Double(lane) * laneHeight
            let mine = operations.filter { $0.client == client }
            let node = mine.compactMap(\.node).first.map { " (n\($0))" } ?? ""
            svg.text(plot.left - 6, top + laneHeight / 2 + 4, "c\(client)\(node)", anchor: "end", size: 10)
            for operation in mine {
                draw(&svg, plot, operation, start: start, top: top, isCulprit: operation.id == culprit,
                     isLabelled: operation.id == culprit || operations.count <= labelled)
            }
        }
        let entries = [LegendEntry(label: "operation", sample: .swatch(ordinary)),
                       LegendEntry(label: "cannot be linearized", sample: .swatch(highlighted)),
                       LegendEntry(label: "failed (cas mismatch)", sample: .fill("white", hatch: failedHatch))]
        var bottom = ChartFrame.legend(&svg, entries, top: plot.bottom + 38)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    static let ordinary = SeriesStyle(index: 0)
    static let highlighted = SeriesStyle(index: 1)
    static let failedHatch = 1

    /// A bar with its label above it: "#7 put n1.5".
    static func draw(_ svg: inout SVG, _ plot: Plot, _ operation: Operation, start: Double, top: Double, isCulprit: Bool, isLabelled: Bool) {
        let x1 = plot.px((operation.invoke - start) / 1000)
        let x2 = max(operation.complete.map { plot.px(($0 - start) / 1000) } ?? plot.right, x1 + 3)
        let y = top + 16, height = 12.0
        svg.group([("class", "operation"), ("data-op", String(operation.id))]) { svg in
            if operation.outcome == "fail" {
                svg.rect(x1, y, x2 - x1, height, [("fill", "white"), ("stroke", Ink.axis), ("stroke-width", "0.6")])
                svg.rect(x1, y, x2 - x1, height, [("fill", SeriesStyle.hatchFill(failedHatch, in: svg))])
            } else {
                (isCulprit ? highlighted : ordinary).bar(&svg, x1, y, x2 - x1, height)
            }
            if operation.complete == nil {
                svg.rect(x1, y, x2 - x1, height, [("fill", "none"), ("stroke", "white"), ("stroke-width", "1.2"), ("stroke-dasharray", "4 3")])
            }
            guard isLabelled else { return }
            let text = "#\(operation.id) \(operation.label)" + (operation.complete == nil ? " (timed out)" : "")
            svg.text(max(plot.left + 2, min(x1, plot.right - 5.5 * Double(text.count))), y - 3, text, size: 10, isCulprit ? [("font-weight", "bold")] : [])
        }
    }

    /// The operations and the culprit's id from the detail, with errors that name the field.
    static func parse(_ detail: JSONValue, run: String) throws -> ([Operation], Int?, Int) {
        func fail(_ field: String, _ reason: String) -> ReportError {
            ReportError(ReportWriter.anomaliesFile, "run \(run): unorderable.\(field): \(reason)")
        }
        func number(_ value: JSONValue?, _ field: String) throws -> Double {
            guard case .number(let number)? = value else { throw fail(field, "expected a number") }
            return number
        }
        func string(_ value: JSONValue?, _ field: String) throws -> String {
            guard case .string(let string)? = value else { throw fail(field, "expected a string") }
            return string
        }
        guard case .array(let items)? = detail["operations"] else { throw fail("operations", "expected an array") }
        let operations = try items.enumerated().map { index, item in
            let field = "operations[\(index)]"
            return Operation(
                id: Int(try number(item["id"], field + ".id")), client: Int(try number(item["client"], field + ".client")),
                node: item["node"].flatMap { if case .number(let node) = $0 { Int(node) } else { nil } },
                invoke: try number(item["invoke_us"], field + ".invoke_us"),
                complete: item["complete_us"] == .null ? nil : try number(item["complete_us"], field + ".complete_us"),
                label: try string(item["op"], field + ".op"), outcome: try string(item["outcome"], field + ".outcome"))
        }
        let culprit = detail["culprit"].flatMap { if case .number(let id) = $0 { Int(id) } else { nil } }
        let count = detail["count"] == nil ? operations.count : Int(try number(detail["count"], "count"))
        return (operations, culprit, count)
    }
}
