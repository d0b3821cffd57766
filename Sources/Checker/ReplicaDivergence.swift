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
            var perNode: [(key: String, value: JSONValue)] = []
            for (node, value) in zip(nodes, values) { perNode.append((node.description, value.map(JSONValue.string) ?? .null)) }
            anomalies.append(Anomaly(
                kind: .replicaDivergence, key: key, nodes: differing,
                explanation: "replicas disagree on key \(quoted(key)) after quiescence: " + describe(nodes: nodes, values: values, majority: majority) + ".",
                details: ["values": .object(perNode)]))
        }
        return anomalies
    }

    /// The most common value and its holders first, then each other value by how it differs from
    /// it — long appended values mostly share a prefix, so showing both ends of each would hide
    /// exactly the part where they part ways.
    static func describe(nodes: [NodeID], values: [String?], majority: String?) -> String {
        var groups: [(value: String?, holders: [NodeID])] = []
        for (node, value) in zip(nodes, values) {
            if let index = groups.firstIndex(where: { $0.value == value }) { groups[index].holders.append(node) } else { groups.append((value, [node])) }
        }
        groups.sort { ($0.value == majority ? 0 : 1, $0.holders[0]) < ($1.value == majority ? 0 : 1, $1.holders[0]) }
        let names = { (holders: [NodeID]) in holders.map(\.description).joined(separator: ", ") }
        var parts = ["\(names(groups[0].holders)) \(groups[0].holders.count == 1 ? "holds" : "hold") " + (majority.map { quoted($0) } ?? "no value")]
        for group in groups.dropFirst() {
            parts.append("\(names(group.holders)) \(group.holders.count == 1 ? "holds" : "hold") " + difference(group.value, from: majority))
        }
        return parts.joined(separator: "; ")
    }

    /// How `value` differs from `reference`, in words: absent, a prefix (what it lacks), an
    /// extension (what it adds), or where the two part ways, with a little context.
    static func difference(_ value: String?, from reference: String?) -> String {
        guard let value else { return "no value" }
        guard let reference else { return quoted(value) }
        let a = Array(value), b = Array(reference)
        let common = zip(a, b).prefix { $0 == $1 }.count
        let context = 24
        let excerpt = { (characters: [Character], from: Int) in
            (from > context ? "…" : "") + String(characters[max(0, from - context)..<min(characters.count, from + 2 * context)])
                + (characters.count > from + 2 * context ? "…" : "")
        }
        if common == a.count {
            return "a prefix of it, \(b.count - a.count) characters shorter, ending \(quoted(excerpt(a, a.count)))"
        }
        if common == b.count {
            return "it followed by \(a.count - b.count) more characters: \(quoted(excerpt(a, common)))"
        }
        return "a value that parts from it after \(common) characters: \(quoted(excerpt(a, common))) against \(quoted(excerpt(b, common)))"
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
