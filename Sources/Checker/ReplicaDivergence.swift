import ConsensusCore

/// Replica divergence: after heal and quiescence every replica that is up must hold the same state
/// machine. Keys on which the replicas that are up disagree (a value differs, or some have the key
/// and others not) are reported, naming the nodes that differ from the most common value.
enum ReplicaDivergence {
    static func find(replicas: [NodeID: [String: String]], down: Set<NodeID>) -> [Anomaly] {
        let nodes = replicas.keys.filter { !down.contains($0) }.sorted()
        guard nodes.count > 1 else { return [] }
        var keys = Set<String>()
        for node in nodes { keys.formUnion(replicas[node]!.keys) }
        var anomalies: [Anomaly] = []
        for key in keys.sorted() {
            let values = nodes.map { replicas[$0]![key] }
            guard Set(values).count > 1 else { continue }
            let majority = mostCommon(values)
            let differing = zip(nodes, values).filter { $0.1 != majority }.map(\.0)
            let listing = zip(nodes, values).map { "\($0.0) \(quoted($0.1))" }.joined(separator: ", ")
            var perNode: [(key: String, value: JSONValue)] = []
            for (node, value) in zip(nodes, values) { perNode.append((node.description, value.map(JSONValue.string) ?? .null)) }
            anomalies.append(Anomaly(
                kind: .replicaDivergence, key: key, nodes: differing,
                explanation: "replicas disagree on key \(quoted(key)) after quiescence: \(listing).",
                details: ["values": .object(perNode)]))
        }
        return anomalies
    }

    /// The value most replicas hold; on a tie, the one held by the lowest-numbered node.
    static func mostCommon(_ values: [String?]) -> String? {
        var best = values[0], bestCount = 0
        for candidate in values {
            let count = values.filter { $0 == candidate }.count
            if count > bestCount { (best, bestCount) = (candidate, count) }
        }
        return best
    }
}
