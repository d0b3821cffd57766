import ConsensusCore
import Sharding
import Simulator

/// Reads a scenario's `"sharded"` object and sorts its fault timeline into the steps for every
/// group, the steps for one group, and the configuration changes.
struct ShardedLayoutDecoder {
    static let keys = ["groups", "nodesPerGroup", "buckets", "metaserver", "bug", "transactions"]
    static let changeActions = ["join", "leave", "move"]

    static func layout(_ field: JSONField) throws(ScenarioError) -> ShardedLayout {
        let object = try field.object(allowing: keys)
        var layout = ShardedLayout(groups: try object["groups"]?.int(in: 1...ScenarioLimits.shardGroups) ?? 3,
                                   nodesPerGroup: try object["nodesPerGroup"]?.int(in: 1...ScenarioLimits.nodes) ?? 3,
                                   buckets: try object["buckets"]?.int(in: 1...ScenarioLimits.buckets) ?? 16,
                                   metaserverNodes: 3)
        // The metaserver is a group like the others unless said otherwise (one node each: plain 2PC's
        // single-node participants and coordinator log, for the cross-shard transactions).
        layout.metaserverNodes = try object["metaserver"]?.int(in: 1...ScenarioLimits.nodes) ?? layout.nodesPerGroup
        if let bug = object["bug"] {
            let name = try bug.string()
            guard let value = ShardStore.Bug(rawValue: name) else {
                throw bug.error("unknown planted bug \"\(name)\"; choose from \(ShardStore.Bug.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            layout.bug = value
        }
        if let field = object["transactions"] {
            let mix = try field.object(allowing: ["share", "keys"])
            layout.transactions = .init(share: try mix["share"]?.probability() ?? 0.1, keys: try mix["keys"]?.int(in: 2...16) ?? 2)
        }
        return layout
    }

    var layout: ShardedLayout
    /// Decodes the steps that are faults, its node references set to the group each step names.
    let faults: FaultDecoder
    let duration: TimeSpan

    /// Sorts `field`'s steps: configuration changes into the layout, steps naming a group (a node
    /// reference `"<node> of g2"` or `"of meta"`, or `"group": "g2"`) into its scoped faults, and
    /// returns the rest, which act in every group.
    mutating func sort(_ field: JSONField) throws(ScenarioError) -> [FaultStep] {
        var everywhere: [FaultStep] = []
        var changes: [(change: ShardedLayout.ScheduledChange, field: JSONField)] = []
        let steps = try field.array()
        var known = Set((1...layout.groups).map(GroupID.init))
        for step in steps { known.formUnion(try joinedGroups(step)) }
        for step in steps {
            let object = try step.object(allowing: ["at", "when", "note", "group"] + FaultDecoder.actions + Self.changeActions)
            if let name = object.keys.first(where: Self.changeActions.contains) {
                changes.append((try change(name, object, in: step, known: known), step))
                continue
            }
            let (scope, stripped) = try Self.scope(of: step, known: known)
            // A step for every group acts in the metaserver too: its node ids must exist in both.
            let nodes = switch scope {
            case .metaserver: layout.metaserverNodes
            case .group: layout.nodesPerGroup
            case nil: min(layout.nodesPerGroup, layout.metaserverNodes)
            }
            var decoder = faults
            decoder.refs = NodeRefDecoder(nodes: nodes)
            let decoded = try decoder.step(stripped)
            if let scope { layout.scopedFaults.append(.init(scope: scope, step: decoded)) } else { everywhere.append(decoded) }
        }
        // In time order; changes at one time in file order.
        changes = changes.enumerated().sorted { ($0.element.change.at, $0.offset) < ($1.element.change.at, $1.offset) }.map(\.element)
        try checkChanges(changes)
        layout.changes = changes.map(\.change)
        return everywhere
    }

    /// The groups a `join` step names (they run from the start, so any step may aim at them).
    private func joinedGroups(_ step: JSONField) throws(ScenarioError) -> [GroupID] {
        guard case .object(let members) = step.value, let join = members.first(where: { $0.key == "join" }) else { return [] }
        return try Self.groupList(step.child("join", join.value), known: nil)
    }

    /// `{"at": "10s", "join": "g4"}` (or a list), `{"leave": "g1"}`, `{"move": {"bucket": 3, "to": "g2"}}`.
    private func change(_ name: String, _ object: JSONObject, in step: JSONField, known: Set<GroupID>) throws(ScenarioError) -> ShardedLayout.ScheduledChange {
        if let extra = object.keys.first(where: { $0 != name && $0 != "at" && $0 != "note" }) {
            throw step.child(extra, .null).error(extra == "when"
                ? "a configuration change happens at a time (\"at\"), not on a protocol event"
                : "a configuration change takes only \"at\" and \"note\" besides \"\(name)\"")
        }
        let at = try object.required("at")
        let time = try at.duration()
        guard time < duration else { throw at.error("change at \(time) is not before the end of the run (\(duration))") }
        let value = object[name]!
        let change: ConfigurationChange
        switch name {
        case "join":
            change = .join(Dictionary(uniqueKeysWithValues: try Self.groupList(value, known: nil).map { ($0, layout.servers(of: $0)) }))
        case "leave":
            change = .leave(try Self.groupList(value, known: known))
        default:
            let move = try value.object(allowing: ["bucket", "to"])
            let bucket = try move.required("bucket").int(in: 0...(layout.buckets - 1))
            change = .move(Bucket(bucket), to: try Self.group(try move.required("to"), known: known))
        }
        return .init(at: .zero + time, change: change)
    }

    /// Replays the changes on the first configuration, so that one the metaserver would refuse,
    /// or one that changes nothing a user meant, is an error before anything runs.
    private func checkChanges(_ changes: [(change: ShardedLayout.ScheduledChange, field: JSONField)]) throws(ScenarioError) {
        guard case .success(var configuration) = ShardConfiguration.initial(buckets: layout.buckets).applying(layout.initialChange) else { return }
        for (scheduled, field) in changes {
            switch scheduled.change {
            case .join(let joining):
                if let present = joining.keys.sorted().first(where: { configuration.groups[$0] != nil }) {
                    throw field.error("\(present) is already in the configuration at \(scheduled.at - Instant.zero)")
                }
            case .leave(let leaving):
                if let absent = leaving.first(where: { configuration.groups[$0] == nil }) {
                    throw field.error("\(absent) is not in the configuration at \(scheduled.at - Instant.zero), so it cannot leave")
                }
                guard configuration.groups.count > leaving.count else {
                    throw field.error("no group would be left to serve the buckets at \(scheduled.at - Instant.zero)")
                }
            case .move(_, let group):
                guard configuration.groups[group] != nil else {
                    throw field.error("\(group) is not in the configuration at \(scheduled.at - Instant.zero), so no bucket can move to it")
                }
            }
            if case .success(let next) = configuration.applying(scheduled.change) { configuration = next }
        }
    }

    /// `"g2"` or `["g2", "g3"]`.
    static func groupList(_ field: JSONField, known: Set<GroupID>?) throws(ScenarioError) -> [GroupID] {
        if case .array = field.value {
            let list = try field.array().map { item throws(ScenarioError) in try group(item, known: known) }
            guard !list.isEmpty else { throw field.error("needs at least one group") }
            guard Set(list).count == list.count else { throw field.error("names a group twice") }
            return list
        }
        return [try group(field, known: known)]
    }

    /// `"g2"`: a group id; with `known`, one that exists in the run.
    static func group(_ field: JSONField, known: Set<GroupID>?) throws(ScenarioError) -> GroupID {
        let text = try field.string()
        guard let id = GroupID(name: text), id.rawValue <= ScenarioLimits.shardGroups else {
            throw field.error("expected a group, \"g1\"…\"g\(ScenarioLimits.shardGroups)\"; found \"\(text)\"")
        }
        if let known, !known.contains(id) {
            throw field.error("group \(text) is neither in the first configuration nor joins later")
        }
        return id
    }

    /// The group a step aims at, and the step without the words that say so: every string
    /// `"<x> of g2"` becomes `"<x>"`, and a `"group"` member goes. All must name one group: groups
    /// are separate Raft clusters, so a step acts within one (or, naming none, in each alike).
    static func scope(of step: JSONField, known: Set<GroupID>) throws(ScenarioError) -> (GroupScope?, JSONField) {
        guard case .object(let members) = step.value else { return (nil, step) }
        var named: [(text: String, field: JSONField)] = []
        var kept: [(key: String, value: JSONValue)] = []
        for member in members {
            let field = step.child(member.key, member.value)
            if member.key == "group" {
                named.append((try field.string(), field))
            } else {
                kept.append((member.key, member.key == "note" ? member.value : stripped(member.value, at: field, named: &named)))
            }
        }
        var scope: GroupScope?
        for (text, field) in named {
            let this: GroupScope = text == "meta" || text == "metaserver" ? .metaserver : .group(try group(JSONField(value: .string(text), path: field.path, file: field.file), known: known))
            if let scope, scope != this { throw step.error("a fault step acts within one group; this one names \(scope) and \(this)") }
            scope = this
        }
        return (scope, JSONField(value: .object(kept), path: step.path, file: step.file))
    }

    private static func stripped(_ value: JSONValue, at field: JSONField, named: inout [(text: String, field: JSONField)]) -> JSONValue {
        switch value {
        case .string(let text):
            guard let range = text.range(of: " of ", options: .backwards) else { return value }
            named.append((String(text[range.upperBound...]), field))
            return .string(String(text[..<range.lowerBound]))
        case .array(let items):
            return .array(items.enumerated().map { index, item in stripped(item, at: JSONField(value: item, path: "\(field.path)[\(index)]", file: field.file), named: &named) })
        case .object(let members):
            return .object(members.map { ($0.key, stripped($0.value, at: field.child($0.key, $0.value), named: &named)) })
        default:
            return value
        }
    }
}

extension ShardedLayoutDecoder {
    /// What a sharded deployment needs of the rest of the scenario: Raft groups, clients that wait
    /// for each answer, and no more clients than a run simulates.
    static func check(_ scenario: Scenario, _ layout: ShardedLayout, in object: JSONObject) throws(ScenarioError) {
        let items = try object.required("backends").array()
        for (spec, item) in zip(scenario.backends, items) where spec.kind.name != "raft" || spec.external != nil {
            throw item.error("a sharded deployment's server groups and metaserver are Raft groups (eraft's shardkvserver); "
                             + "\(spec.label) cannot serve as one: compare it in a scenario without \"sharded\"")
        }
        if case .open = scenario.workload.mode {
            throw (object["workload"] ?? object.field).error("a sharded deployment's clients are closed-loop (each waits for its answer, "
                                                             + "looking the table up again when a group refuses it): drop \"mode\": \"open\"")
        }
        if layout.transactions.share > 0, layout.transactions.keys > scenario.workload.keys {
            throw (object["sharded"] ?? object.field).error("a transaction writes \(layout.transactions.keys) distinct keys, "
                                                            + "more than the workload's \(scenario.workload.keys)")
        }
        let clients = layout.clients(scenario.workload)
        guard clients <= ScenarioLimits.clients else {
            throw (object["workload"] ?? object.field).error("\(scenario.workload.clientsPerNode) clients per group (clientsPerNode, in a sharded "
                                                             + "deployment) on \(layout.groups) groups is \(clients) clients, more than the \(ScenarioLimits.clients) a run simulates")
        }
    }
}
