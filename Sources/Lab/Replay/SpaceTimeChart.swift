import ConsensusCore
import Foundation
import Simulator

/// The replay's diagram of one time window, time running down as in Maelstrom's `messages.svg`
/// and Jepsen's `timeline.html`: a lane per node with its role, crashes and restarts, an arrow per
/// message from its sending to its arrival, then a lane per client with a bar per operation from
/// invocation to completion, and on the right the faults and anomalies of the window. One time
/// axis for all, so a reader sees which messages an operation waited for.
enum SpaceTimeChart {
    static let axisWidth = 64.0
    static let nodeLane = 118.0
    static let clientLaneRange = 28.0...78.0
    static let gap = 26.0
    static let notesWidth = 250.0
    static let maxWidth = 1480.0
    static let laneTop = 64.0
    static let plotTop = 84.0
    static let heightRange = 720.0...6000.0
    /// Fewer messages than this in the window, and operations too set the room time takes.
    static let pacingMessages = 50

    static let okFill = "#B7E8B7", okStroke = "#3C8D3C"
    static let failFill = "#F6C1C1", failStroke = "#B03A3A"
    static let unknownFill = "#FFF3A6", unknownStroke = "#A89000"
    static let anomalyInk = "#AA4499"
    static let dropInk = "#D00000"

    static func chart(_ model: ReplayModel) -> Chart {
        let window = model.window, result = model.result
        let operations = visibleOperations(model)
        let (lanes, laneOf) = clientLanes(operations.shown, nodes: model.spec.scenario.nodes)
        let fixed = axisWidth + Double(model.spec.scenario.nodes) * nodeLane + 2 * gap + notesWidth
        let clientLane = min(max((maxWidth - fixed) / Double(max(lanes.count, 1)), clientLaneRange.lowerBound), clientLaneRange.upperBound)
        let timeout = model.spec.scenario.workload.timeout
        // The messages set the pace; operations only where there are few messages to place them by.
        var times = model.trace.messages.flatMap { [$0.sent] + [$0.arrival ?? $0.sent] } + result.events.map(\.time)
        if model.trace.messages.count < pacingMessages { times += operations.shown.flatMap { [$0.invoke, $0.complete ?? $0.invoke + timeout] } }
        let layout = Layout(window: window, nodes: model.spec.scenario.nodes, lanes: lanes, clientLane: clientLane, moments: times)
        let name = "replay-\(model.spec.id)".fileSafe
        let title = "\(model.spec.id): messages and operations, \(ReplayMoment.seconds(window.start))–\(ReplayMoment.seconds(window.end)) s"
        let caption = caption(model, operations)
        var svg = ChartFrame.start(name, title: title, caption: caption, width: layout.width)
        let kinds = model.spec.backend.kind.messageKinds
        let spans = roleSpans(model)
        let roles = RoleTimelineChart.roleNames(spans)
        drawAxis(&svg, layout)
        drawNodeLanes(&svg, layout, spans, roles: roles)
        var labels = LabelSpace()
        svg.group([("class", "messages")]) { svg in
            for message in model.trace.messages { drawMessage(&svg, layout, message, style: arrowStyle(kinds, message.kind), labels: &labels) }
        }
        drawNodeEvents(&svg, layout, result.events)
        let involved = Set(model.anomalies.flatMap(\.operations))
        drawClientLanes(&svg, layout, operations.shown, lane: laneOf, involved: involved, timeout: timeout)
        drawNotes(&svg, layout, model)
        var entries = kinds.enumerated().filter { kind in model.trace.messages.contains { $0.kind == kind.element } }
            .map { LegendEntry(label: $0.element, sample: .fill(arrowStyle(kinds, $0.element).colour, hatch: nil)) }
        entries += [LegendEntry(label: "dropped (×: where)", sample: .fill(dropInk, hatch: nil)),
                    LegendEntry(label: "op ok", sample: .fill(okFill, hatch: nil)), LegendEntry(label: "op failed", sample: .fill(failFill, hatch: nil)),
                    LegendEntry(label: "op indeterminate", sample: .fill(unknownFill, hatch: nil)),
                    LegendEntry(label: "op in an anomaly", sample: .fill(anomalyInk, hatch: nil))]
        entries += RoleTimelineChart.legend(roles)
        var bottom = ChartFrame.legend(&svg, entries, top: layout.bottom + 14, left: axisWidth)
        bottom = ChartFrame.note(&svg, caption, top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    static func caption(_ model: ReplayModel, _ operations: (shown: [HistoryOperation], omitted: Int)) -> String {
        var text = "Time runs down, not to scale: the room between two moments grows with the logarithm of the time between them, "
            + "so bursts of messages spread out and idle stretches shrink (read times from the ticks). An arrow is a protocol message "
            + "between nodes, from when it left its sender to when it reached its receiver (dashed, ending in ×: dropped there, by a "
            + "partition or because the receiver was down; a short dashed stub towards the receiver ending in ×: dropped as it left, cut "
            + "off by a partition, lost by the network, or lost with its sender's crash). A bar in a client's lane is an operation from "
            + "invocation to completion (an indeterminate one until the client's timeout). Hover over an arrow or a bar for its details. "
            + "Client requests and replies are not drawn."
        if model.trace.omitted > 0 {
            text += " Capped: \(model.trace.messages.count) of \(model.trace.messages.count + model.trace.omitted) messages drawn "
                + "(those sent first); choose a shorter window with --from/--to, or raise --limit."
        }
        if operations.omitted > 0 { text += " Capped: \(operations.omitted) operations of the window not drawn." }
        return text
    }

    /// The operations that overlap the window, at most the request's limit (the earliest).
    static func visibleOperations(_ model: ReplayModel) -> (shown: [HistoryOperation], omitted: Int) {
        let timeout = model.spec.scenario.workload.timeout
        let inWindow = model.result.history.filter { model.window.overlaps($0.invoke, $0.complete ?? $0.invoke + timeout) }
        let limit = model.trace.window.limit
        return (Array(inWindow.prefix(limit)), max(0, inWindow.count - limit))
    }

    static func roleSpans(_ model: ReplayModel) -> [[Aggregate.RoleSpan]] {
        Aggregate.roleSpans(model.result.events.map(ReportData.Event.init), nodes: model.spec.scenario.nodes, end: model.result.end.milliseconds)
    }

    /// Ticks at whole 100 ms, then 10 ms, then 1 ms, each where it keeps clear of those placed
    /// before: time is not to scale, so ticks are dense where the diagram is stretched.
    static func drawAxis(_ svg: inout SVG, _ layout: Layout) {
        let window = layout.window
        var placed: [Double] = []
        for (step, digits) in [(Int64(100_000), 1), (10_000, 2), (1_000, 3)] {
            var tick = (window.start.microseconds + step - 1) / step * step
            while tick <= window.end.microseconds {
                let y = layout.y(Instant(microseconds: tick))
                if placed.allSatisfy({ abs($0 - y) >= 36 }) {
                    placed.append(y)
                    svg.line(axisWidth - 4, y, layout.notesLeft, y, [("stroke", Ink.grid), ("stroke-width", "0.8")])
                    svg.text(axisWidth - 8, y + 4, Number.fixed(Double(tick) / 1_000_000, digits), anchor: "end", size: 10, [("class", "ytick")])
                }
                tick += step
            }
        }
        svg.text(14, plotTop + layout.height / 2, "time (s), not to scale: read it from the ticks", anchor: "middle", size: 11,
                 [("transform", "rotate(-90 14 \(SVG.number(plotTop + layout.height / 2)))")])
    }

    /// Lane heads, the lane lines, down time hatched and the role as a coloured band beside the line.
    static func drawNodeLanes(_ svg: inout SVG, _ layout: Layout, _ spans: [[Aggregate.RoleSpan]], roles: [String]) {
        let start = layout.window.start.milliseconds, end = layout.window.end.milliseconds
        svg.text(layout.nodesLeft + Double(layout.nodes) * nodeLane / 2, laneTop - 20, "nodes", anchor: "middle", size: 11, [("font-weight", "bold")])
        for (index, nodeSpans) in spans.enumerated() {
            let node = NodeID(index + 1), x = layout.nodeX(node)
            svg.text(x, laneTop, node.description, anchor: "middle", size: 12, [("font-weight", "bold")])
            svg.line(x, plotTop, x, layout.bottom, [("stroke", Ink.axis), ("stroke-width", "1")])
            for span in nodeSpans where span.end >= start && span.start <= end {
                let y1 = layout.y(instant(span.start)), y2 = layout.y(instant(span.end))
                switch span.state {
                case .role(let role):
                    svg.rect(x - 7, y1, 5, y2 - y1, [("fill", SeriesStyle(index: roles.firstIndex(of: role)!).colour), ("class", "role")])
                    if span.start >= start {
                        svg.text(x - 9, y1 + 10, "\(role) t\(span.term)", anchor: "end", size: 9,
                                 [("stroke", "white"), ("stroke-width", "3"), ("paint-order", "stroke"), ("class", "role-change")])
                    }
                case .up:
                    continue
                case .down:
                    svg.rect(x - nodeLane / 2 + 6, y1, nodeLane - 12, y2 - y1, [("fill", SeriesStyle.hatchFill(SeriesStyle.crossHatch, in: svg)),
                                                                                ("class", "down")])
                }
            }
        }
    }

    static func instant(_ milliseconds: Double) -> Instant { Instant(microseconds: Int64((milliseconds * 1000).rounded())) }

    /// Crashes, restarts and failed restarts on the node's lane.
    static func drawNodeEvents(_ svg: inout SVG, _ layout: Layout, _ events: [EventRecord]) {
        for record in events where layout.window.contains(record.time) {
            guard let node = record.node else { continue }
            let x = layout.nodeX(node), y = layout.y(record.time)
            let mark: (text: String, colour: String)? = switch record.event {
            case .crash: ("✕ crash", dropInk)
            case .restart, .start: ("▲ \(record.event.kind)", "#117733")
            case .restartFailed: ("✕ restart failed", dropInk)
            default: nil
            }
            guard let mark else { continue }
            svg.group([("class", "node-event"), ("data-kind", record.event.kind)]) { svg in
                svg.add(SVG.tag("title", [], content: SVG.escape("\(ReplayMoment.seconds(record.time)) s \(record.label)")))
                svg.line(x - nodeLane / 2 + 4, y, x + nodeLane / 2 - 4, y, [("stroke", mark.colour), ("stroke-width", "2.5")])
                svg.text(x + 4, y - 4, mark.text, size: 11, [("fill", mark.colour), ("font-weight", "bold"), ("stroke", "white"),
                                                              ("stroke-width", "3"), ("paint-order", "stroke")])
            }
        }
    }

    /// Anomalies noted beside the diagram at most: a run with a thousand stale reads would bury the faults.
    static let notedAnomalies = 24

    /// The faults and anomalies of the window in the right-hand column, each at its time (pushed
    /// down when it would cover the one above), faults also as a dashed line across the nodes.
    static func drawNotes(_ svg: inout SVG, _ layout: Layout, _ model: ReplayModel) {
        let x = layout.notesLeft
        svg.text(x + 4, laneTop, "faults and anomalies", size: 11, [("font-weight", "bold")])
        /// A fault (a dashed line across the nodes), a leader change, or an anomaly (a bar down to its end).
        enum Mark { case fault, leader, anomaly(end: Instant) }
        var notes: [(time: Instant, mark: Mark, text: String, colour: String)] = []
        for record in model.result.events where layout.window.contains(record.time) {
            switch record.event {
            case .fault, .healedForQuiescence: notes.append((record.time, .fault, record.event.detail, dropInk))
            case .leader(let leader, let term): notes.append((record.time, .leader, leader.map { "leader: \($0), term \(term)" } ?? "no leader", Ink.axis))
            default: continue
            }
        }
        // Anomalies that begin in the window first: one whose operations span the whole run (a
        // key's non-linearizable wall) says little about this window.
        let overlapping = model.anomalies.filter { anomaly in
            guard let start = anomaly.start, let end = anomaly.end else { return false }
            return layout.window.overlaps(start, end)
        }.sorted { (layout.window.contains($0.start!) ? 0 : 1, $0.start!) < (layout.window.contains($1.start!) ? 0 : 1, $1.start!) }
        for anomaly in overlapping.prefix(notedAnomalies) {
            notes.append((max(anomaly.start!, layout.window.start), .anomaly(end: anomaly.end!),
                          "\(anomaly.title): ops \(anomaly.operations.map(String.init).joined(separator: ", "))", anomalyInk))
        }
        if overlapping.count > notedAnomalies {
            svg.text(x + 4, laneTop + 14, "+\(overlapping.count - notedAnomalies) more anomalies: see the list below",
                     size: 9, [("fill", anomalyInk)])
        }
        notes.sort { $0.time < $1.time }
        var nextFree = plotTop
        for (index, note) in notes.enumerated() {
            let y = layout.y(note.time)
            switch note.mark {
            case .fault:
                svg.line(layout.nodesLeft, y, x, y, [("stroke", note.colour), ("stroke-width", "1"), ("stroke-dasharray", "6 3"), ("class", "fault")])
            case .leader:
                break
            case .anomaly(let end):
                let bracketX = x + 4 + Double(index % 4) * 4
                svg.line(bracketX, y, bracketX, layout.y(end), [("stroke", note.colour), ("stroke-width", "2.5"), ("class", "anomaly")])
            }
            let lines = ChartFrame.wrap(note.text, 38).prefix(3)
            let textY = max(y + 4, nextFree + 10)
            svg.line(x + 20, y, x + 26, textY - 4, [("stroke", note.colour), ("stroke-width", "0.8")])
            for (offset, line) in lines.enumerated() {
                svg.text(x + 28, textY + Double(offset) * 11, line, size: 10, [("fill", note.colour)])
            }
            nextFree = textY + Double(lines.count - 1) * 11 + 4
        }
    }
}

extension ReportData.Event {
    /// An event as its line of `events.csv` would read back, for the charts that read those lines.
    init(_ record: EventRecord) {
        let typed = ReportWriter.typedFields(record.event)
        self.init(t: record.time.milliseconds, node: record.node?.description ?? "", kind: record.event.kind, role: typed[0], term: typed[1], leader: typed[2],
                  transaction: typed[3], key: typed[4], duration: Double(typed[5]))
    }
}
