import ConsensusCore
import Foundation
import Simulator

/// The client lanes of the diagram: a bar per operation, as Jepsen's timeline draws them.
extension SpaceTimeChart {
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
        return "op \(operation.id) by \(operation.client) via \(operation.node): \(opLabel(operation))\n"
            + "invoked \(ReplayMoment.seconds(operation.invoke)) s, \(end): \(outcome)"
    }
}
