import ConsensusCore
import Simulator
import Storage

/// Node references in scenario files: `3`, `"n3"`, `"leader"`, `"follower"`, `"coordinator"`,
/// `"random"`, for restart/resume `"crashed"`/`"paused"` (every node currently so), and in a step
/// with a `when`, `"event-node"` (the node at which its trigger fired).
struct NodeRefDecoder {
    let nodes: Int
    /// The step has a trigger, so `"event-node"` names a node.
    var triggered = false

    func ref(_ field: JSONField, allowAffected: Bool = false) throws(ScenarioError) -> NodeRef {
        if case .number = field.value { return .id(NodeID(try field.int(in: 1...nodes))) }
        let text = try field.string()
        switch text {
        case "leader": return .leader
        case "follower": return .follower
        case "coordinator": return .coordinator
        case "random": return .random
        case "crashed" where allowAffected, "paused" where allowAffected: return .affected
        case "event-node" where triggered: return .eventNode
        case "event-node": throw field.error("\"event-node\" is the node at which a step's trigger fired: only in a step with \"when\"")
        default:
            if text.hasPrefix("n"), let number = Int(text.dropFirst()) {
                guard (1...nodes).contains(number) else { throw field.error("node \(text) is not in the cluster (n1…n\(nodes))") }
                return .id(NodeID(number))
            }
            let extra = (allowAffected ? ", \"crashed\", \"paused\"" : "") + (triggered ? ", \"event-node\"" : "")
            throw field.error("expected a node: an id 1…\(nodes), \"n1\"…\"n\(nodes)\", \"leader\", \"follower\", \"coordinator\", \"random\"\(extra); found \"\(text)\"")
        }
    }

    /// One reference or an array of them.
    func refs(_ field: JSONField) throws(ScenarioError) -> [NodeRef] {
        if case .array = field.value {
            let list = try field.array().map { item throws(ScenarioError) in try ref(item) }
            guard !list.isEmpty else { throw field.error("needs at least one node") }
            return list
        }
        return [try ref(field)]
    }
}

/// Decodes one fault step: `{"at": "10s", "crash": "leader"}` or `{"when": {...}, "partition": ...}`.
struct FaultDecoder {
    var refs: NodeRefDecoder
    let duration: TimeSpan
    /// Duration plus quiescence: latencies set by a `network` step stay below it.
    let runLength: TimeSpan
    let messageKinds: Set<String>
    /// The scenario's storage engine: `disk` faults need files.
    let engine: StorageModel.Engine

    static let actions = ["partition", "one-way", "drop", "heal", "crash", "restart", "pause", "resume", "network", "slow", "clock", "reject", "disk"]

    func step(_ field: JSONField) throws(ScenarioError) -> FaultStep {
        let object = try field.object(allowing: ["at", "when", "note"] + Self.actions)
        let present = object.keys.filter { Self.actions.contains($0) }
        guard present.count == 1 else {
            throw field.error(present.isEmpty ? "a fault step needs one action: \(Self.actions.joined(separator: ", "))"
                                              : "a fault step has one action, found \(present.joined(separator: " and "))")
        }
        var decoder = self
        decoder.refs.triggered = object["when"] != nil
        let action = try decoder.action(present[0], object[present[0]]!)
        switch (object["at"], object["when"]) {
        case (let at?, nil):
            let time = try at.duration()
            guard time < duration else { throw at.error("fault at \(time) is not before the end of the run (\(duration))") }
            return FaultStep(at: .zero + time, action)
        case (nil, let when?):
            return FaultStep(on: try trigger(when), action)
        case (.some, .some):
            throw field.error("give either \"at\" or \"when\", not both")
        case (nil, nil):
            throw field.error("a fault step needs \"at\" (a time) or \"when\" (a protocol event)")
        }
    }

    func action(_ name: String, _ field: JSONField) throws(ScenarioError) -> FaultAction {
        switch name {
        case "partition": return try partition(field)
        case "one-way":
            let object = try field.object(allowing: ["from", "to"])
            return .oneWay(from: try refs.refs(try object.required("from")), to: try refs.refs(try object.required("to")))
        case "drop":
            let object = try field.object(allowing: ["kinds", "from", "to"])
            let kinds = try object.required("kinds").array().map { kind throws(ScenarioError) in try messageKind(kind) }
            guard !kinds.isEmpty else { throw object["kinds"]!.error("needs at least one message type") }
            return .drop(kinds: kinds, from: try refs.refs(try object.required("from")), to: try refs.refs(try object.required("to")))
        case "heal":
            guard try field.bool() else { throw field.error("write \"heal\": true") }
            return .heal
        case "crash": return .crash(try refs.ref(field))
        case "restart": return .restart(try refs.ref(field, allowAffected: true))
        case "pause": return .pause(try refs.ref(field))
        case "resume": return .resume(try refs.ref(field, allowAffected: true))
        case "network":
            if case .string(let text) = field.value {
                guard text == "restore" else { throw field.error("expected an object of link settings or \"restore\"") }
                return .restoreNetwork
            }
            let object = try field.object(allowing: ScenarioFile.linkKeys + ["nodes"])
            var change = try ScenarioFile.linkChange(object, runLength: runLength)
            change.nodes = try object["nodes"].map { nodes throws(ScenarioError) in try refs.refs(nodes) }
            return .network(change)
        case "slow":
            let object = try field.object(allowing: ["node", "factor"])
            return .slow(try refs.ref(try object.required("node")), factor: try object.required("factor").number(in: 1...1_000_000))
        case "clock":
            let object = try field.object(allowing: ["node", "rate"])
            return .clockRate(try refs.ref(try object.required("node")), rate: try object.required("rate").number(in: 0.01...100))
        case "disk":
            try ScenarioFile.requireFileEngine(engine, at: field)
            let object = try field.object(allowing: ["node", "fault"])
            let fault = try object.required("fault")
            guard let kind = DiskFault(rawValue: try fault.string()) else {
                throw fault.error("unknown disk fault; choose from \(DiskFault.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return .disk(try refs.ref(try object.required("node")), kind)
        default: // reject
            let object = try field.object(allowing: ["node", "phase", "count"])
            let phase = try object["phase"].map { phase throws(ScenarioError) in try messageKind(phase) }
            return .inject(try refs.ref(try object.required("node")), .reject(phase: phase, count: try object["count"].map(Self.rejectCount) ?? 1))
        }
    }

    /// `"count"` of a `reject`: how many times, or `"all"`: every time from then on.
    static func rejectCount(_ field: JSONField) throws(ScenarioError) -> Int {
        if case .string = field.value {
            guard try field.string() == "all" else { throw field.error("expected a count or \"all\"") }
            return InjectedFault.everyTime
        }
        return try field.int(in: 1...1_000_000)
    }

    /// Explicit groups of node ids, or a named shape.
    func partition(_ field: JSONField) throws(ScenarioError) -> FaultAction {
        switch field.value {
        case .array:
            var seen: Set<Int> = []
            let groups = try field.array().map { group throws(ScenarioError) -> [NodeRef] in
                try group.array().map { item throws(ScenarioError) -> NodeRef in
                    guard case .id(let node) = try refs.ref(item) else {
                        throw item.error("explicit groups take node ids; for role-based cuts use a shape such as {\"isolate\": \"leader\"}")
                    }
                    guard seen.insert(node.rawValue).inserted else { throw item.error("node \(node) is in two groups") }
                    return .id(node)
                }
            }
            let missing = (1...refs.nodes).filter { !seen.contains($0) }
            guard missing.isEmpty else {
                throw field.error("groups miss \(missing.map { "n\($0)" }.joined(separator: ", ")); every node belongs to exactly one group")
            }
            return .partition(groups)
        case .string(let shape):
            switch shape {
            case "majority-minority": return .partitionShape(.majorityMinority(leaderIn: nil))
            case "halves": return .partitionShape(.halves)
            case "bridge": return .partitionShape(.bridge)
            case "majorities-ring": return .partitionShape(.majoritiesRing)
            default: throw field.error("unknown partition shape \"\(shape)\"; shapes: majority-minority, halves, bridge, majorities-ring, {\"isolate\": node}, {\"shape\": \"majority-minority\", \"leader\": \"minority\"}")
            }
        default:
            let object = try field.object(allowing: ["isolate", "shape", "leader"])
            if let isolate = object["isolate"] {
                guard object.members.count == 1 else { throw field.error("\"isolate\" takes no other fields") }
                return .partitionShape(.isolate(try refs.ref(isolate)))
            }
            let shape = try object.required("shape")
            guard try shape.string() == "majority-minority" else { throw shape.error("only \"majority-minority\" takes a \"leader\" side") }
            let side = try object.required("leader")
            guard let value = PartitionShape.Side(rawValue: try side.string()) else { throw side.error("expected \"majority\" or \"minority\"") }
            return .partitionShape(.majorityMinority(leaderIn: value))
        }
    }

    /// `{"sent": "COMMIT", "node": "coordinator", "occurrence": 1, "after": "5s", "delay": "0ms"}`.
    func trigger(_ field: JSONField) throws(ScenarioError) -> Trigger {
        let object = try field.object(allowing: ["sent", "received", "role", "committed", "node", "occurrence", "after", "delay"])
        let events = object.keys.filter { ["sent", "received", "role", "committed"].contains($0) }
        guard events.count == 1 else { throw field.error("a trigger names one event: sent, received, role or committed") }
        let event: Trigger.Event
        switch events[0] {
        case "sent": event = .sent(kind: try messageKind(object["sent"]!))
        case "received": event = .received(kind: try messageKind(object["received"]!))
        case "role":
            let role = object["role"]!
            guard let value = Role(rawValue: try role.string()) else { throw role.error("expected \"leader\", \"follower\" or \"candidate\"") }
            event = .role(value)
        default: event = .committed(try object["committed"]!.int(in: 1...Int.max))
        }
        let after = try object["after"]?.duration() ?? .zero
        guard after < duration else { throw object["after"]!.error("trigger armed at \(after), after the end of the run (\(duration))") }
        return Trigger(event, node: try object["node"].map { node throws(ScenarioError) in try refs.ref(node) },
                       occurrence: try object["occurrence"]?.int(in: 1...Int.max) ?? 1,
                       notBefore: .zero + after, delay: try object["delay"]?.duration() ?? .zero)
    }

    func messageKind(_ field: JSONField) throws(ScenarioError) -> String {
        let kind = try field.string()
        guard messageKinds.contains(kind) else {
            throw field.error("no backend of this scenario sends \"\(kind)\"; message types: \(messageKinds.sorted().joined(separator: ", "))")
        }
        return kind
    }
}
