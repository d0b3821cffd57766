import ConsensusCore

/// Who can send to whom at one moment of a run: for each node, in cluster order, the nodes its
/// messages reach (itself included). Links may be one-way, so `reaches` need not be symmetric.
public struct Reachability: Hashable, Sendable, CustomStringConvertible {
    public let reaches: [[NodeID]]

    init(reaches: [[NodeID]]) { self.reaches = reaches }

    /// The nodes `node`'s messages reach, itself included.
    public func reached(from node: NodeID) -> [NodeID] { reaches[node.index] }

    /// The groups, when the links form groups (each node reaches exactly the nodes of its own
    /// group, and they reach it); nil for a bridge, a ring, a one-way cut.
    public var groups: [[NodeID]]? {
        let isGrouping = reaches.allSatisfy { seen in seen.allSatisfy { reaches[$0.index] == seen } }
        guard isGrouping else { return nil }
        var groups: [[NodeID]] = []
        for seen in reaches where !groups.contains(seen) { groups.append(seen) }
        return groups
    }

    /// `n1,n2 | n3,n4,n5` when the links form groups, otherwise each node's reach (`n1→n2,n3; …`).
    public var description: String {
        let names = { (nodes: [NodeID]) in nodes.map(\.description).joined(separator: ",") }
        if let groups { return groups.map(names).joined(separator: " | ") }
        return reaches.enumerated().map { index, seen in
            let node = NodeID(index + 1)
            return "\(node)→" + names(seen.filter { $0 != node })
        }.joined(separator: "; ")
    }
}
