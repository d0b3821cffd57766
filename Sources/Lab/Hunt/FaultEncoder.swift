import ConsensusCore
import Simulator

/// Writes a fault step back as a scenario file spells it (`FaultDecoder` reads it again to the
/// same step), so that a nemesis's drawn schedule can become explicit steps a person reads and
/// the shrinker removes one by one.
enum FaultEncoder {
    /// The step, or nil for what a file cannot say the same way: a trigger, an injected fault,
    /// a link change beyond loss, duplication and reordering.
    static func step(_ step: FaultStep) -> HuntCase.Step? {
        guard case .at(let time) = step.when, let (action, value) = action(step.action) else { return nil }
        return HuntCase.Step(at: time - .zero, action: action, value: value)
    }

    static func action(_ action: FaultAction) -> (String, JSONValue)? {
        switch action {
        case .partition(let groups): return ("partition", .array(groups.map(refs)))
        case .partitionShape(let shape): return ("partition", self.shape(shape))
        case .oneWay(let from, let to): return ("one-way", .object([("from", refs(from)), ("to", refs(to))]))
        case .drop(let kinds, let from, let to):
            return ("drop", .object([("kinds", .array(kinds.map { .string($0) })), ("from", refs(from)), ("to", refs(to))]))
        case .heal: return ("heal", .bool(true))
        case .crash(let node): return ("crash", ref(node))
        case .restart(let node): return ("restart", node == .affected ? .string("crashed") : ref(node))
        case .pause(let node): return ("pause", ref(node))
        case .resume(let node): return ("resume", node == .affected ? .string("paused") : ref(node))
        case .network(let change):
            guard change.latency == nil, change.reorderDelay == nil, change.nodes == nil else { return nil }
            let rates: [(key: String, value: JSONValue)] = [("loss", change.loss), ("duplicate", change.duplicate), ("reorder", change.reorder)]
                .compactMap { name, rate in rate.map { (name, .number($0)) } }
            return ("network", .object(rates))
        case .restoreNetwork: return ("network", .string("restore"))
        case .slow(let node, let factor): return ("slow", .object([("node", ref(node)), ("factor", .number(factor))]))
        case .clockRate(let node, let rate): return ("clock", .object([("node", ref(node)), ("rate", .number(rate))]))
        case .disk(let node, let fault): return ("disk", .object([("node", ref(node)), ("fault", .string(fault.rawValue))]))
        case .inject: return nil
        }
    }

    static func shape(_ shape: PartitionShape) -> JSONValue {
        switch shape {
        case .isolate(let node): .object([("isolate", ref(node))])
        case .majorityMinority(nil): .string("majority-minority")
        case .majorityMinority(let side?): .object([("shape", .string("majority-minority")), ("leader", .string(side.rawValue))])
        case .halves: .string("halves")
        case .bridge: .string("bridge")
        case .majoritiesRing: .string("majorities-ring")
        }
    }

    static func refs(_ nodes: [NodeRef]) -> JSONValue { .array(nodes.map(ref)) }

    static func ref(_ node: NodeRef) -> JSONValue {
        switch node {
        case .id(let id): .string("n\(id.rawValue)")
        case .affected: .string("crashed")
        default: .string(node.description)
        }
    }
}
