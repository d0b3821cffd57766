import ConsensusCore
import Foundation
import Simulator

extension SpaceTimeChart {
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
}
