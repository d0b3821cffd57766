import ConsensusCore
import Foundation
import Simulator

/// The arrows of the diagram: one per message, coloured and labelled by type.
extension SpaceTimeChart {
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

    /// How far a message that never arrived is drawn towards its receiver.
    static let stub = 26.0

    /// An arrow from the sender's lane to the receiver's; dropped ones dashed and crossed where they ended.
    static func drawMessage(_ svg: inout SVG, _ layout: Layout, _ message: TracedMessage, style: SeriesStyle, labels: inout LabelSpace) {
        let x1 = layout.nodeX(message.from), y1 = layout.y(message.sent), x2Full = layout.nodeX(message.to)
        let dropped: Bool, x2: Double, y2: Double
        switch message.fate {
        case .delivered(let time): (dropped, x2, y2) = (false, x2Full, layout.y(time))
        case .cut(let time), .receiverDown(let time): (dropped, x2, y2) = (true, x2Full, layout.y(time))
        case .lost, .blocked, .undelivered:
            // A stub towards the receiver: it never got there, nor anywhere in between.
            let length = min(stub, abs(x2Full - x1) / 2)
            (dropped, x2, y2) = (true, x1 + (x2Full > x1 ? length : -length), y1 + 4)
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
        case .lost: "lost on the way (the link's loss rate, or a drop fault)"
        case .blocked: "dropped as it left: a partition had cut the link"
        case .undelivered: "never delivered (the sender crashed before it left, or the run ended)"
        }
        return "\(message.kind) \(message.from)→\(message.to)\(copy), sent \(ReplayMoment.seconds(message.sent)) s, \(fate)\n\(message.detail)"
    }
}
