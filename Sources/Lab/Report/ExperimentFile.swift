import ConsensusCore
import Foundation
import Sharding
import Simulator

/// `experiment.json`: the experiment and each scenario in words, so that a report rebuilt from a
/// folder (committed reports keep no scenario files) can say what was run.
///
/// ```
/// {"name": "leader-isolated", "description": "…", "suite": false,
///  "scenarios": [{"name": "…", "description": "…", "sweep": "", "nodes": 5, "duration": "30s",
///                 "seeds": [1, 2], "backends": ["unreplicated", "raft[read=lease]"],
///                 "faults": ["at 10s: partition majority-minority(leader in minority)", "at 20s: heal"]}]}
/// ```
struct ExperimentFile: Equatable {
    struct ScenarioEntry: Equatable {
        var name: String
        var description: String
        var sweep: String
        var nodes: Int
        var duration: String
        var seeds: [UInt64]
        var backends: [String]
        var faults: [String]
    }

    var name: String
    var description: String
    var isSuite: Bool
    var scenarios: [ScenarioEntry]

    static let fileName = "experiment.json"

    init(_ definition: ExperimentDefinition) {
        name = definition.name
        description = definition.description
        isSuite = definition.isSuite
        scenarios = definition.scenarios.map { scenario in
            ScenarioEntry(name: scenario.name, description: scenario.description, sweep: scenario.sweepLabel, nodes: scenario.nodes,
                          duration: scenario.duration.description, seeds: scenario.seeds, backends: scenario.backends.map(\.label),
                          faults: Self.timeline(scenario))
        }
    }

    init(name: String, description: String, isSuite: Bool, scenarios: [ScenarioEntry]) {
        self.name = name
        self.description = description
        self.isSuite = isSuite
        self.scenarios = scenarios
    }

    /// The fault timeline in words: staggered starts, each step, and the nemesis if any.
    static func timeline(_ scenario: Scenario) -> [String] {
        var lines = scenario.startTimes.keys.sorted().map { "\($0) starts at \(scenario.startTimes[$0]!)" }
        if let layout = scenario.sharded {
            lines += shardedTimeline(scenario, layout)
        } else {
            lines += scenario.faults.map(words)
        }
        if let nemesis = scenario.nemesis {
            lines.append("random faults drawn from each seed (\(nemesis.faults.map(\.rawValue).joined(separator: ", "))), one at a time, "
                         + "every \(nemesis.interval.lowerBound)–\(nemesis.interval.upperBound), each lasting "
                         + "\(nemesis.length.lowerBound)–\(nemesis.length.upperBound)")
        }
        return lines
    }

    /// A sharded deployment in words, then its configuration changes and fault steps in time order,
    /// each step named by the group it acts in (steps with a trigger last, in file order).
    static func shardedTimeline(_ scenario: Scenario, _ layout: ShardedLayout) -> [String] {
        var steps: [(time: Instant?, text: String)] = layout.changes.map { ($0.at, "at \($0.at): \($0.change.summary)") }
        steps += scenario.faults.map { (time(of: $0), "in every group, " + words($0)) }
        steps += layout.scopedFaults.map { (time(of: $0.step), "\($0.scope), " + words($0.step)) }
        let ordered = steps.enumerated().sorted { a, b in
            (a.element.time ?? .zero, a.element.time == nil ? 1 : 0, a.offset) < (b.element.time ?? .zero, b.element.time == nil ? 1 : 0, b.offset)
        }
        let deployment = "g1…g\(layout.groups) of \(layout.nodesPerGroup) Raft nodes serving \(layout.buckets) buckets, a metaserver of "
            + "\(layout.metaserverNodes)" + (layout.bug == .none ? "" : ", every group's store with the planted bug \(layout.bug.rawValue)")
        return [deployment] + ordered.map(\.element.text)
    }

    static func time(of step: FaultStep) -> Instant? {
        if case .at(let time) = step.when { time } else { nil }
    }

    static func words(_ step: FaultStep) -> String {
        switch step.when {
        case .at(let time): return "at \(time): \(step.action)"
        case .on(let trigger):
            var event: String
            switch trigger.event {
            case .sent(let kind): event = "\(kind) is sent"
            case .received(let kind): event = "\(kind) is received"
            case .role(let role): event = "a node becomes \(role.rawValue)"
            case .committed(let index): event = "index \(index) is committed"
            }
            if let node = trigger.node { event += " at \(node)" }
            if trigger.occurrence > 1 { event += " (occurrence \(trigger.occurrence))" }
            if trigger.notBefore > .zero { event += " after \(trigger.notBefore)" }
            if trigger.delay > .zero { event += ", \(trigger.delay) later" }
            return "when \(event): \(step.action)"
        }
    }

    var json: JSONValue {
        .object([
            ("name", .string(name)), ("description", .string(description)), ("suite", .bool(isSuite)),
            ("scenarios", .array(scenarios.map { scenario in
                .object([("name", .string(scenario.name)), ("description", .string(scenario.description)), ("sweep", .string(scenario.sweep)),
                         ("nodes", .number(Double(scenario.nodes))), ("duration", .string(scenario.duration)),
                         ("seeds", .array(scenario.seeds.map { .number(Double($0)) })),
                         ("backends", .array(scenario.backends.map(JSONValue.string))), ("faults", .array(scenario.faults.map(JSONValue.string)))])
            })),
        ])
    }

    func write(to directory: String) throws {
        try Data((json.serialized + "\n").utf8).write(to: URL(fileURLWithPath: directory).appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// Reads `experiment.json` from `directory`; nil when the folder has none (older outputs).
    static func read(from directory: String) throws -> ExperimentFile? {
        let path = (directory as NSString).appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let document: JSONValue
        do { document = try JSONValue(parsing: try String(contentsOfFile: path, encoding: .utf8)) } catch {
            throw ReportError(path, "not valid JSON (\(error))")
        }
        func string(_ value: JSONValue?, _ field: String) throws -> String {
            guard case .string(let text)? = value else { throw ReportError(path, "\(field): expected a string") }
            return text
        }
        func strings(_ value: JSONValue?, _ field: String) throws -> [String] {
            guard case .array(let items)? = value else { throw ReportError(path, "\(field): expected an array") }
            return try items.enumerated().map { try string($1, "\(field)[\($0)]") }
        }
        guard case .array(let scenarios)? = document["scenarios"] else { throw ReportError(path, "scenarios: expected an array") }
        guard case .bool(let isSuite)? = document["suite"] else { throw ReportError(path, "suite: expected true or false") }
        return ExperimentFile(
            name: try string(document["name"], "name"), description: try string(document["description"], "description"), isSuite: isSuite,
            scenarios: try scenarios.enumerated().map { index, scenario in
                let at = "scenarios[\(index)]"
                guard case .number(let nodes)? = scenario["nodes"], case .array(let seeds)? = scenario["seeds"] else {
                    throw ReportError(path, "\(at): nodes and seeds must be a number and an array")
                }
                return ScenarioEntry(name: try string(scenario["name"], "\(at).name"), description: try string(scenario["description"], "\(at).description"),
                                     sweep: try string(scenario["sweep"], "\(at).sweep"), nodes: Int(nodes),
                                     duration: try string(scenario["duration"], "\(at).duration"),
                                     seeds: try seeds.map { seed in
                                         guard case .number(let value) = seed, value >= 0 else { throw ReportError(path, "\(at).seeds: expected numbers") }
                                         return UInt64(value)
                                     },
                                     backends: try strings(scenario["backends"], "\(at).backends"),
                                     faults: try strings(scenario["faults"], "\(at).faults"))
            })
    }
}
