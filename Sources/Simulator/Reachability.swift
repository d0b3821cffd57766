import ConsensusCore

/// Who can send to whom at one moment of a run: for each node, in cluster order, the nodes its
/// messages reach (itself included). Links may be one-way, so `reaches` need not be symmetric.
public struct Reachability: Hashable, Sendable, CustomStringConvertible {
    /// Per node of the cluster in order, the nodes its messages reach, itself included.
    public let reaches: [[NodeID]]
    /// The cluster's nodes in order: n1, n2, … unless renumbered (`renumbered`).
    public let nodes: [NodeID]

    init(reaches: [[NodeID]]) {
        self.reaches = reaches
        nodes = reaches.indices.map { NodeID($0 + 1) }
    }

    private init(reaches: [[NodeID]], nodes: [NodeID]) {
        self.reaches = reaches
        self.nodes = nodes
    }

    /// The same links with every node renamed by `rename` (a group's nodes numbered across a
    /// sharded deployment).
    public func renumbered(_ rename: (NodeID) -> NodeID) -> Reachability {
        Reachability(reaches: reaches.map { $0.map(rename) }, nodes: nodes.map(rename))
    }

    /// The nodes `node`'s messages reach, itself included.
    public func reached(from node: NodeID) -> [NodeID] { reaches[nodes.firstIndex(of: node)!] }

    /// The groups, when the links form groups (each node reaches exactly the nodes of its own
    /// group, and they reach it); nil for a bridge, a ring, a one-way cut.
    public var groups: [[NodeID]]? {
        let isGrouping = reaches.allSatisfy { seen in seen.allSatisfy { reached(from: $0) == seen } }
        guard isGrouping else { return nil }
        var groups: [[NodeID]] = []
        for seen in reaches where !groups.contains(seen) { groups.append(seen) }
        return groups
    }

    /// `n1,n2 | n3,n4,n5` when the links form groups, otherwise each node's reach (`n1→n2,n3; …`).
    public var description: String {
        let names = { (nodes: [NodeID]) in nodes.map(\.description).joined(separator: ",") }
        if let groups { return groups.map(names).joined(separator: " | ") }
        return zip(nodes, reaches).map { node, seen in "\(node)→" + names(seen.filter { $0 != node }) }.joined(separator: "; ")
    }
}
