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
    /// Vertical room per arrow or operation, before the height is clamped.
    static let pixelsPerItem = 5.0
    /// Fewer messages than this in the window, and operations too set the room time takes.
    static let pacingMessages = 50

    static let okFill = "#B7E8B7", okStroke = "#3C8D3C"
    static let failFill = "#F6C1C1", failStroke = "#B03A3A"
    static let unknownFill = "#FFF3A6", unknownStroke = "#A89000"
    static let anomalyInk = "#AA4499"
    static let dropInk = "#D00000"

    /// A lane of operations: one client's, or (with many clients) those of every client pinned to one node.
    struct ClientLane {
        var title: String
        var subtitle: String
        /// The operations of every client pinned to a node, not of one client.
        var perNode = false
    }

    /// Where everything goes: lanes across, time down.
    ///
    /// Time is not to scale: between two consecutive moments something happens (a message leaves
    /// or arrives, an operation starts or ends, a node crashes), the diagram gives room by the
    /// logarithm of the stretch (`log(1 + Δt / τ)`), as a Lamport diagram would by order alone:
    /// bursts spread out so that arrows stay apart, idle stretches (an election timeout) shrink
    /// but still show as the longest gaps. The ticks give the time.
    struct Layout {
        var window: ReplayWindow
        var nodes: Int
        var lanes: [ClientLane]
        var clientLane: Double
        /// Moments (microseconds) and their heights, ascending: `y` interpolates between them.
        var moments: [Int64]
        var heights: [Double]

        /// τ: stretches much shorter than this take almost no room.
        static let tau = 500.0
        /// Pixels per unit of `log(1 + Δt / τ)` before the height is fitted into `heightRange`.
        static let pixelsPerUnit = 16.0

        init(window: ReplayWindow, nodes: Int, lanes: [ClientLane], clientLane: Double, moments times: [Instant]) {
            self.window = window
            self.nodes = nodes
            self.lanes = lanes
            self.clientLane = clientLane
            let clamped = times.map { min(max($0, window.start), window.end).microseconds } + [window.start.microseconds, window.end.microseconds]
            moments = Array(Set(clamped)).sorted()
            var raw = [0.0]
            for index in moments.indices.dropFirst() { raw.append(raw[index - 1] + log(1 + Double(moments[index] - moments[index - 1]) / Self.tau)) }
            let total = max(raw.last!, 1e-9)
            let height = min(max(total * Self.pixelsPerUnit, SpaceTimeChart.heightRange.lowerBound), SpaceTimeChart.heightRange.upperBound)
            heights = raw.map { SpaceTimeChart.plotTop + $0 / total * height }
        }

        var nodesLeft: Double { SpaceTimeChart.axisWidth }
        var clientsLeft: Double { nodesLeft + Double(nodes) * SpaceTimeChart.nodeLane + SpaceTimeChart.gap }
        var notesLeft: Double { clientsLeft + Double(lanes.count) * clientLane + SpaceTimeChart.gap }
        var width: Double { notesLeft + SpaceTimeChart.notesWidth }
        var height: Double { bottom - SpaceTimeChart.plotTop }
        var bottom: Double { heights.last! }

        func nodeX(_ node: NodeID) -> Double { nodesLeft + (Double(node.index) + 0.5) * SpaceTimeChart.nodeLane }
        func clientX(_ lane: Int) -> Double { clientsLeft + Double(lane) * clientLane }

        func y(_ time: Instant) -> Double {
            let t = min(max(time, window.start), window.end).microseconds
            var low = 0, high = moments.count - 1
            while high - low > 1 {
                let middle = (low + high) / 2
                if moments[middle] <= t { low = middle } else { high = middle }
            }
            guard moments[high] > moments[low] else { return heights[low] }
            return heights[low] + (heights[high] - heights[low]) * Double(t - moments[low]) / Double(moments[high] - moments[low])
        }
    }

    /// Lanes of at most this many clients; past it, a lane per node for the clients pinned to it
    /// (open-loop clients come and go by the hundred while a cluster is unavailable).
    static let clientLanesMax = 24

    /// The operations' lanes, and each operation's lane.
    static func clientLanes(_ operations: [HistoryOperation], nodes: Int) -> (lanes: [ClientLane], lane: [Int: Int]) {
        var homes: [ClientID: NodeID] = [:]
        for operation in operations where homes[operation.client] == nil { homes[operation.client] = operation.node }
        if homes.count <= clientLanesMax {
            let clients = homes.keys.sorted { (homes[$0]!, $0) < (homes[$1]!, $1) }
            let index = Dictionary(uniqueKeysWithValues: clients.enumerated().map { ($1, $0) })
            return (clients.map { ClientLane(title: $0.description, subtitle: "→\(homes[$0]!)") },
                    Dictionary(uniqueKeysWithValues: operations.map { ($0.id, index[$0.client]!) }))
        }
        return (NodeID.cluster(nodes).map { node in ClientLane(title: "via \(node)", subtitle: "\(homes.values.count { $0 == node }) clients", perNode: true) },
                Dictionary(uniqueKeysWithValues: operations.map { ($0.id, $0.node.index) }))
    }

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
        var svg = ChartFrame.start(name, title: title, caption: caption(model, operations), width: layout.width)
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
        bottom = ChartFrame.note(&svg, caption(model, operations), top: bottom + 4)
        return ChartFrame.finish(svg, name: name, bottom: bottom)
    }

    static func caption(_ model: ReplayModel, _ operations: (shown: [HistoryOperation], omitted: Int)) -> String {
        var text = "Time runs down, not to scale: the room between two moments grows with the logarithm of the time between them, "
            + "so bursts of messages spread out and idle stretches shrink (read times from the ticks). An arrow is a protocol message between nodes, from when it left its sender to when it reached its receiver "
            + "(dashed, ending in ×: dropped there, by a partition or because the receiver was down; a short dashed stub ending in ×: lost on the "
            + "way). A bar in a client's lane is an operation from invocation to completion (an indeterminate one until the client's timeout). "
            + "Hover over an arrow or a bar for its details. Client requests and replies are not drawn."
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

    /// The style of a message type's arrows: the series palette in the backend's order of its
    /// types, without the yellows, too faint for a thin line.
    static func arrowStyle(_ kinds: [String], _ kind: String) -> SeriesStyle {
        let legible = SeriesStyle.colours.indices.filter { !["#F0E442", "#DDCC77"].contains(SeriesStyle.colours[$0]) }
        return SeriesStyle(index: legible[(kinds.firstIndex(of: kind) ?? 0) % legible.count])
    }

    /// Where arrow labels already are: a label that would cover one is left to the tooltip.
    struct LabelSpace {
        static let row = 10.0
        private var placed: [Int: [(low: Double, high: Double)]] = [:]

        /// Takes the room of a label of `width` centred at `x` on baseline `y`, if it is free.
        mutating func take(x: Double, y: Double, width: Double) -> Bool {
            let row = Int(y / Self.row), span = (low: x - width / 2, high: x + width / 2)
            for near in row - 1...row + 1 where placed[near, default: []].contains(where: { $0.low < span.high && span.low < $0.high }) {
                return false
            }
            placed[row, default: []].append(span)
            return true
        }
    }

    static func instant(_ milliseconds: Double) -> Instant { Instant(microseconds: Int64((milliseconds * 1000).rounded())) }

    /// An arrow from the sender's lane to the receiver's; dropped ones dashed and crossed where they ended.
    static func drawMessage(_ svg: inout SVG, _ layout: Layout, _ message: TracedMessage, style: SeriesStyle, labels: inout LabelSpace) {
        let x1 = layout.nodeX(message.from), y1 = layout.y(message.sent), x2Full = layout.nodeX(message.to)
        let dropped: Bool, x2: Double, y2: Double
        switch message.fate {
        case .delivered(let time): (dropped, x2, y2) = (false, x2Full, layout.y(time))
        case .cut(let time), .receiverDown(let time): (dropped, x2, y2) = (true, x2Full, layout.y(time))
        case .lost, .undelivered: (dropped, x2, y2) = (true, (x1 + x2Full) / 2, y1 + 6)
        }
        var attributes = [("stroke", style.colour), ("stroke-width", message.duplicate ? "0.8" : "1.2")]
        if dropped { attributes.append(("stroke-dasharray", "4 2")) }
        svg.group([("class", "msg"), ("data-kind", message.kind)]) { svg in
            svg.add(SVG.tag("title", [], content: SVG.escape(tooltip(message))))
            svg.line(x1, y1, x2, y2, attributes)
            if dropped {
                svg.add(SVG.tag("path", [("d", "M\(SVG.number(x2 - 3)),\(SVG.number(y2 - 3))l6,6m0,-6l-6,6"), ("stroke", dropInk), ("stroke-width", "1.6")]))
            } else {
                svg.add(arrowhead(from: (x1, y1), to: (x2, y2), colour: style.colour))
            }
            let mid = (x: (x1 + x2) / 2, y: (y1 + y2) / 2)
            guard labels.take(x: mid.x, y: mid.y, width: Double(message.kind.count) * 5 + 4) else { return }
            svg.text(mid.x, mid.y - 2, message.kind, anchor: "middle", size: 8,
                     [("fill", style.colour), ("stroke", "white"), ("stroke-width", "2.5"), ("paint-order", "stroke")])
        }
    }

    static func arrowhead(from: (Double, Double), to: (Double, Double), colour: String) -> String {
        let dx = to.0 - from.0, dy = to.1 - from.1, length = max((dx * dx + dy * dy).squareRoot(), 0.001)
        let ux = dx / length, uy = dy / length, size = 6.0
        let base = (x: to.0 - ux * size, y: to.1 - uy * size)
        let points = [(to.0, to.1), (base.x - uy * size / 2.5, base.y + ux * size / 2.5), (base.x + uy * size / 2.5, base.y - ux * size / 2.5)]
        return SVG.tag("polygon", [("points", SVG.points(points.map { (x: $0.0, y: $0.1) })), ("fill", colour)])
    }

    static func tooltip(_ message: TracedMessage) -> String {
        let copy = message.duplicate ? " (duplicate copy)" : ""
        let fate: String = switch message.fate {
        case .delivered(let time): "delivered \(ReplayMoment.seconds(time)) s"
        case .cut(let time): "dropped at \(ReplayMoment.seconds(time)) s: the link was cut"
        case .receiverDown(let time): "dropped at \(ReplayMoment.seconds(time)) s: \(message.to) was down"
        case .lost: "lost on the way"
        case .undelivered: "never delivered (the sender crashed before it left, or the run ended)"
        }
        return "\(message.kind) \(message.from)→\(message.to)\(copy), sent \(ReplayMoment.seconds(message.sent)) s, \(fate)\n\(message.detail)"
    }

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

    /// A lane per client (or per node's clients), headed by the client and its node; overlapping
    /// operations of one lane (open-loop clients) side by side in it.
    static func drawClientLanes(_ svg: inout SVG, _ layout: Layout, _ operations: [HistoryOperation], lane: [Int: Int], involved: Set<Int>,
                                timeout: TimeSpan) {
        guard !layout.lanes.isEmpty else { return }
        let heading = layout.lanes.first?.perNode == true ? "operations by the node their clients are pinned to" : "clients (→ the node each is pinned to)"
        svg.text(layout.clientsLeft + Double(layout.lanes.count) * layout.clientLane / 2, laneTop - 20, heading, anchor: "middle", size: 11,
                 [("font-weight", "bold")])
        for (index, header) in layout.lanes.enumerated() {
            let x = layout.clientX(index)
            svg.text(x + layout.clientLane / 2, laneTop - 6, header.title, anchor: "middle", size: 10, [("font-weight", "bold")])
            svg.text(x + layout.clientLane / 2, laneTop + 6, header.subtitle, anchor: "middle", size: 9, [("fill", Ink.note)])
            svg.line(x, plotTop, x, layout.bottom, [("stroke", Ink.grid), ("stroke-width", "0.8")])
        }
        for (index, laneOperations) in Dictionary(grouping: operations, by: { lane[$0.id]! }).sorted(by: { $0.key < $1.key }) {
            let slots = slotted(laneOperations, timeout: timeout), width = (layout.clientLane - 2) / Double(max(slots.count, 1))
            for (slot, slotOperations) in slots.enumerated() {
                for operation in slotOperations {
                    drawOperation(&svg, layout, operation, x: layout.clientX(index) + 1 + Double(slot) * width, width: width,
                                  involved: involved.contains(operation.id), timeout: timeout)
                }
            }
        }
    }

    /// Operations in columns, each in the first column free at its invocation (interval colouring).
    static func slotted(_ operations: [HistoryOperation], timeout: TimeSpan) -> [[HistoryOperation]] {
        var slots: [[HistoryOperation]] = [], free: [Instant] = []
        for operation in operations.sorted(by: { ($0.invoke, $0.id) < ($1.invoke, $1.id) }) {
            let end = operation.complete ?? operation.invoke + timeout
            if let slot = free.firstIndex(where: { $0 < operation.invoke }) {
                slots[slot].append(operation)
                free[slot] = end
            } else {
                slots.append([operation])
                free.append(end)
            }
        }
        return slots
    }

    static func drawOperation(_ svg: inout SVG, _ layout: Layout, _ operation: HistoryOperation, x: Double, width: Double, involved: Bool, timeout: TimeSpan) {
        let y1 = layout.y(operation.invoke), y2 = max(layout.y(operation.complete ?? operation.invoke + timeout), y1 + 2)
        let (fill, stroke): (String, String) = switch operation.outcome {
        case .ok: (okFill, okStroke)
        case .fail: (failFill, failStroke)
        case .indeterminate: (unknownFill, unknownStroke)
        }
        var attributes = [("fill", fill), ("stroke", involved ? anomalyInk : stroke), ("stroke-width", involved ? "2.5" : width < 4 ? "0.3" : "0.7")]
        if operation.complete == nil { attributes.append(("stroke-dasharray", "3 2")) }
        svg.group([("class", "op"), ("data-outcome", operation.outcome.name)]) { svg in
            svg.add(SVG.tag("title", [], content: SVG.escape(operationTooltip(operation))))
            svg.rect(x, y1, width, y2 - y1, attributes)
            guard y2 - y1 >= 11, width >= 20 else { return }
            let text = opLabel(operation), fits = max(Int(width / 5.2), 3)
            svg.text(x + 2, y1 + 9, text.count > fits ? String(text.prefix(fits - 1)) + "…" : text, size: 8)
        }
    }

    /// `put k3=v17`, `get k3→v17`, `cas k3 v1→v2`: what Jepsen's timeline writes in a bar.
    static func opLabel(_ operation: HistoryOperation) -> String {
        let command = operation.command
        switch command {
        case .get:
            if case .ok(.value(let read)) = operation.outcome { return "get \(command.key)→\(read ?? "nil")" }
            return "get \(command.key)"
        case .put(let key, let value): return "put \(key)=\(value)"
        case .append(let key, let value): return "append \(key)+=\(value)"
        case .delete(let key): return "delete \(key)"
        case .cas(let key, let expected, let value): return "cas \(key) \(expected ?? "nil")→\(value)"
        }
    }

    static func operationTooltip(_ operation: HistoryOperation) -> String {
        let end = operation.complete.map { "completed \(ReplayMoment.seconds($0)) s" } ?? "no answer before the client's timeout"
        let outcome: String = switch operation.outcome {
        case .ok: "ok"
        case .fail(let kind): "failed (\(kind.rawValue))"
        case .indeterminate: "indeterminate"
        }
        return "op \(operation.id) by \(operation.client) via \(operation.node): \(opLabel(operation))\ninvoked \(ReplayMoment.seconds(operation.invoke)) s, \(end): \(outcome)"
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
        self.init(t: record.time.milliseconds, node: record.node?.description ?? "", kind: record.event.kind, role: typed[0], term: typed[1], leader: typed[2])
    }
}
