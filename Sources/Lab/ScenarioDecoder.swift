import Checker
import ConsensusCore
import Foundation
import Simulator
import Storage

/// Reads scenario files: JSON, version 1, validated with precise errors (file, JSON path, reason)
/// before anything runs. The format is documented in the README.
public enum ScenarioFile {
    static let version = 1

    static let topLevelKeys = ["version", "name", "description", "nodes", "duration", "quiescence", "seeds", "backends",
                               "workload", "network", "storage", "processing", "start", "faults", "nemesis", "sweep", "sharded"]

    /// Loads a scenario file; one `Scenario` per sweep point (one without a sweep).
    public static func load(path: String) throws(ScenarioError) -> [Scenario] {
        try parse(try text(at: path), file: path)
    }

    /// The text of a scenario, suite or study file; whatever makes it unusable is said with the file.
    /// (An empty history is a run without clients; an empty scenario is a mistake worth naming.)
    package static func text(at path: String) throws(ScenarioError) -> String {
        let text: String
        do { text = try InputFile.text(at: path) } catch { throw ScenarioError(file: path, path: "$", reason: error.reason) }
        guard !text.isEmpty else { throw ScenarioError(file: path, path: "$", reason: "the file is empty") }
        return text
    }

    /// The JSON document of a scenario, suite or study file's text.
    package static func document(_ text: String, file: String) throws(ScenarioError) -> JSONValue {
        do { return try JSONValue(parsing: text) } catch { throw ScenarioError(file: file, path: "$", reason: "invalid JSON at \(error)") }
    }

    public static func parse(_ text: String, file: String) throws(ScenarioError) -> [Scenario] {
        try scenarios(in: try document(text, file: file), file: file)
    }

    /// The scenarios of a parsed scenario file, one per sweep point.
    static func scenarios(in document: JSONValue, file: String) throws(ScenarioError) -> [Scenario] {
        let root = JSONField(value: document, path: "$", file: file)
        let object = try root.object(allowing: topLevelKeys)
        let defaultName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        guard let sweep = object["sweep"] else { return [try decode(root, defaultName: defaultName, sweepLabel: "")] }
        return try SweepExpansion.points(of: document, sweep: sweep).map { point throws(ScenarioError) in
            do throws(ScenarioError) {
                return try decode(JSONField(value: point.document, path: "$", file: file), defaultName: defaultName, sweepLabel: point.label)
            } catch {
                // The value came from the sweep: say which point, so the user edits the right list.
                throw ScenarioError(file: error.file, path: error.path, reason: "\(error.reason) (in sweep point \(point.label))")
            }
        }
    }

    static func decode(_ root: JSONField, defaultName: String, sweepLabel: String) throws(ScenarioError) -> Scenario {
        let object = try root.object(allowing: topLevelKeys)
        let version = try object.required("version").int(in: 1...Int.max)
        guard version == ScenarioFile.version else {
            throw object["version"]!.error("unsupported scenario version \(version); this conlab reads version \(ScenarioFile.version)")
        }
        let layout = try object["sharded"].map { field throws(ScenarioError) in try ShardedLayoutDecoder.layout(field) }
        if layout != nil, let field = object["nodes"] {
            throw field.error("a sharded deployment's group size is \"sharded\": {\"nodesPerGroup\": …}; drop \"nodes\"")
        }
        let nodes: Int
        if let layout { nodes = layout.nodesPerGroup } else { nodes = try object["nodes"]?.int(in: 1...ScenarioLimits.nodes) ?? 5 }
        let (duration, quiescence) = try runTimes(object)
        let runLength = duration + quiescence
        let refs = NodeRefDecoder(nodes: nodes)
        var scenario = Scenario(
            name: try object["name"]?.string() ?? defaultName,
            description: try object["description"]?.string() ?? "",
            file: root.file, nodes: nodes, duration: duration,
            quiescence: quiescence,
            seeds: try object["seeds"].map { field throws(ScenarioError) in try seeds(field) } ?? [1],
            backends: try backends(try object.required("backends")),
            workload: try object["workload"].map { field throws(ScenarioError) in try workload(field, nodes: nodes, runLength: runLength) } ?? WorkloadConfig(),
            network: LinkProfile(), clientLink: .local, storage: StorageModel(),
            processing: try object["processing"].map { field throws(ScenarioError) in try latency(field, below: runLength) } ?? .fixed(.microseconds(10)),
            faults: [], nemesis: nil, startTimes: [:], sweepLabel: sweepLabel)
        if let field = object["network"] { (scenario.network, scenario.clientLink) = try network(field, runLength: runLength) }
        if let field = object["storage"] { scenario.storage = try storage(field, runLength: runLength) }
        if let field = object["start"] { scenario.startTimes = try startTimes(field, refs: refs, duration: duration) }
        let kinds = Set(scenario.backends.flatMap(\.kind.messageKinds))
        let faultDecoder = FaultDecoder(refs: refs, duration: duration, runLength: runLength, messageKinds: kinds, engine: scenario.storage.engine)
        if var layout {
            try ShardedLayoutDecoder.check(scenario, layout, in: object)
            if let field = object["faults"] {
                var sorter = ShardedLayoutDecoder(layout: layout, faults: faultDecoder, duration: duration)
                scenario.faults = try sorter.sort(field)
                layout = sorter.layout
            }
            scenario.sharded = layout
        } else if let field = object["faults"] {
            scenario.faults = try field.array().map { step throws(ScenarioError) in try faultDecoder.step(step) }
        }
        if let field = object["nemesis"] { scenario.nemesis = try nemesis(field, engine: scenario.storage.engine) }
        try checkSessions(scenario.backends, in: try object.required("backends"), against: scenario.workload, at: object["workload"])
        return scenario
    }

    /// Every backend's sessions must fit the clients. A client re-sends an unanswered request until
    /// the workload's `timeout`; a session that expired meanwhile cannot tell a retry of a client
    /// that has had no write answered yet from a new client's first request, and would apply it a
    /// second time, so `sessionTimeout` must be longer. And a client with `outstanding` requests in
    /// flight needs as many answers kept (`sessionResults`), or its retries meet `superseded`.
    static func checkSessions(_ specs: [BackendSpec], in field: JSONField, against workload: WorkloadConfig,
                              at workloadField: JSONField?) throws(ScenarioError) {
        for (spec, item) in zip(specs, try field.array()) where spec.external == nil {
            let options = member("options", of: item)
            if spec.sessions.timeout <= workload.timeout {
                // Point at the option if the scenario set it, else at the workload's setting.
                throw (member("sessionTimeout", of: options) ?? member("timeout", of: workloadField) ?? item).error(
                    "sessionTimeout \(spec.sessions.timeout) is not longer than the workload's timeout \(workload.timeout): "
                        + "a client retries a request that long, and a session that expired meanwhile could apply a retry twice")
            }
            if spec.sessions.maxResults < workload.outstanding {
                throw (member("sessionResults", of: options) ?? member("outstanding", of: workloadField) ?? item).error(
                    "sessionResults \(spec.sessions.maxResults) is below the workload's outstanding \(workload.outstanding): "
                        + "a client's retries would find the answers of its requests in flight dropped")
            }
        }
    }

    /// `duration` (clients at work) and `quiescence` (the cluster settling), which together must
    /// fit in `ScenarioLimits.runLength`.
    static func runTimes(_ object: JSONObject) throws(ScenarioError) -> (duration: TimeSpan, quiescence: TimeSpan) {
        let duration = try object["duration"]?.duration() ?? .seconds(20)
        guard duration > .zero else { throw object["duration"]!.error("must be longer than zero") }
        let quiescence = try object["quiescence"]?.duration() ?? .seconds(3)
        guard duration + quiescence <= ScenarioLimits.runLength else {
            throw (object["quiescence"] ?? object["duration"]!).error(
                "duration + quiescence is \(duration + quiescence), longer than the longest run conlab simulates (\(TimeSpan.longestRunText))")
        }
        return (duration, quiescence)
    }

    /// `{"faults": ["partition", "crash"], "interval": ["500ms", "2s"], "length": ["1s", "3s"]}`.
    static func nemesis(_ field: JSONField, engine: StorageModel.Engine) throws(ScenarioError) -> Nemesis {
        let object = try field.object(allowing: ["faults", "interval", "length"])
        var nemesis = Nemesis()
        if let faults = object["faults"] {
            nemesis.faults = try faults.array().map { item throws(ScenarioError) in
                guard let fault = Nemesis.Fault(rawValue: try item.string()) else {
                    throw item.error("unknown nemesis fault; choose from \(Nemesis.Fault.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                if fault == .disk { try requireFileEngine(engine, at: item) }
                return fault
            }
            guard !nemesis.faults.isEmpty else { throw faults.error("needs at least one fault") }
        }
        if let interval = object["interval"] { nemesis.interval = try durationRange(interval, atLeast: ScenarioLimits.shortestNemesisInterval) }
        if let length = object["length"] { nemesis.length = try durationRange(length, atLeast: ScenarioLimits.shortestNemesisLength) }
        return nemesis
    }

    /// `[shortest, longest]` with `minimum ≤ shortest ≤ longest`.
    static func durationRange(_ field: JSONField, atLeast minimum: TimeSpan) throws(ScenarioError) -> ClosedRange<TimeSpan> {
        let bounds = try field.array()
        guard bounds.count == 2 else { throw field.error("expected two durations, [shortest, longest]") }
        let low = try bounds[0].duration(atLeast: minimum), high = try bounds[1].duration()
        guard low <= high else { throw field.error("expected shortest ≤ longest, found \(low) > \(high)") }
        return low...high
    }

    static func seeds(_ field: JSONField) throws(ScenarioError) -> [UInt64] {
        if case .object = field.value {
            let range = try field.object(allowing: ["from", "count"])
            let from = try range.required("from").int(in: 0...Int(Int32.max))
            let count = try range.required("count").int(in: 1...ScenarioLimits.seeds)
            return (0..<count).map { UInt64(from + $0) }
        }
        let list = try field.array().map { seed throws(ScenarioError) in UInt64(try seed.int(in: 0...Int.max)) }
        guard !list.isEmpty else { throw field.error("needs at least one seed") }
        guard list.count <= ScenarioLimits.seeds else { throw field.error("lists \(list.count) seeds; a scenario runs at most \(ScenarioLimits.seeds)") }
        return list
    }

    static func backends(_ field: JSONField) throws(ScenarioError) -> [BackendSpec] {
        let list = try field.array()
        guard !list.isEmpty else { throw field.error("needs at least one backend") }
        var specs: [BackendSpec] = []
        for item in list {
            let spec = try backend(item)
            guard !specs.contains(where: { $0.label == spec.label }) else { throw item.error("backend \(spec.label) is listed twice") }
            specs.append(spec)
        }
        return specs
    }

    /// `"raft"` or `{"protocol": "raft", "options": {"read": "lease"}}`: a backend with validated
    /// options. A cluster file names its backend the same way. `{"external": "etcd", "options":
    /// {"read": "serializable"}}`: a system the real driver starts (`ExternalSystem`).
    package static func backend(_ item: JSONField) throws(ScenarioError) -> BackendSpec {
        let kind: BackendKind
        var options: [(name: String, value: JSONValue)] = []
        var optionsField: JSONField?
        if case .string(let name) = item.value {
            kind = try ours(name, at: item)
        } else {
            let object = try item.object(allowing: ["protocol", "external", "options"])
            if let external = object["external"] {
                if object["protocol"] != nil { throw item.error("give \"protocol\" (one of our backends) or \"external\" (a system the lab starts), not both") }
                let name = try external.string()
                guard let system = ExternalSystem.named(name) else {
                    throw external.error("unknown external system \"\(name)\"; known: \(ExternalSystem.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                kind = system.kind
            } else {
                kind = try ours(try object.required("protocol").string(), at: item)
            }
            optionsField = object["options"]
            if let optionsField {
                options = try optionsField.object(allowing: optionsField.value.memberNames).members.map { ($0.key, $0.value) }
            }
        }
        switch kind.configure(options) {
        case .success(let configured):
            return BackendSpec(kind: kind, options: options, configured: configured)
        case .failure(let error):
            let at = optionsField.map { $0.child(error.option.split(separator: "[").first.map(String.init) ?? error.option, .null) } ?? item
            throw at.error(error.reason)
        }
    }

    /// A backend a `conlab serve` node runs (a cluster file's, `conlab cluster up`'s): one of ours.
    package static func servedBackend(_ item: JSONField) throws(ScenarioError) -> BackendSpec {
        let spec = try backend(item)
        if let external = spec.external {
            throw item.error("\(external.system.rawValue) is an external system: a `conlab serve` node runs one of our backends; `conlab run --real` starts \(external.system.rawValue) itself")
        }
        return spec
    }

    private static func ours(_ name: String, at item: JSONField) throws(ScenarioError) -> BackendKind {
        guard let kind = Backends.named(name) else {
            let hint = ExternalSystem.named(name).map { " (an external system is named {\"external\": \"\($0.rawValue)\"})" } ?? ""
            throw item.error("unknown backend \"\(name)\"; known backends: \(Backends.all.map(\.name).joined(separator: ", "))\(hint)")
        }
        return kind
    }

    static func workload(_ field: JSONField, nodes: Int, runLength: TimeSpan) throws(ScenarioError) -> WorkloadConfig {
        let object = try field.object(allowing: ["clientsPerNode", "mode", "think", "rate", "outstanding", "keys", "distribution", "mix", "timeout",
                                                 "retry", "redirectBackoff"])
        var workload = WorkloadConfig()
        if let value = object["clientsPerNode"] {
            workload.clientsPerNode = try value.int(in: 0...ScenarioLimits.clientsPerNode)
            guard workload.clientsPerNode * nodes <= ScenarioLimits.clients else {
                throw value.error("\(workload.clientsPerNode) clients on each of \(nodes) nodes is more than the \(ScenarioLimits.clients) clients a run simulates")
            }
        }
        let mode = try object["mode"]?.string() ?? "closed"
        switch mode {
        case "closed":
            if let rate = object["rate"] { throw rate.error("\"rate\" applies to open-loop workloads (\"mode\": \"open\")") }
            if let outstanding = object["outstanding"] {
                throw outstanding.error("\"outstanding\" applies to open-loop workloads: a closed-loop client waits for each answer")
            }
            if let think = object["think"] { workload.mode = .closed(think: try latency(think, below: runLength)) }
        case "open":
            if let think = object["think"] { throw think.error("\"think\" applies to closed-loop workloads") }
            workload.mode = .open(ratePerNode: try object.required("rate").number(in: 0.001...ScenarioLimits.openRate))
            if let value = object["outstanding"] { workload.outstanding = try value.int(in: 1...ScenarioLimits.outstanding) }
        default:
            throw object["mode"]!.error("expected \"closed\" or \"open\", found \"\(mode)\"")
        }
        if let value = object["keys"] { workload.keys = try value.int(in: 1...ScenarioLimits.keys) }
        if let value = object["distribution"] {
            if case .string(let name) = value.value, name == "uniform" {
                workload.distribution = .uniform
            } else {
                let zipf = try value.object(allowing: ["zipf"])
                workload.distribution = .zipf(exponent: try zipf.required("zipf").number(in: 0...10))
            }
        }
        if let value = object["mix"] {
            let mix = try value.object(allowing: ["get", "put", "append", "cas", "delete"])
            func weight(_ key: String) throws(ScenarioError) -> Double { try mix[key]?.number(in: 0...1_000_000) ?? 0 }
            workload.mix = WorkloadConfig.Mix(get: try weight("get"), put: try weight("put"), append: try weight("append"),
                                              cas: try weight("cas"), delete: try weight("delete"))
            guard workload.mix.weights.reduce(0, +) > 0 else { throw value.error("at least one operation needs a weight above zero") }
        }
        if let value = object["timeout"] { workload.timeout = try value.duration() }
        if let value = object["retry"] { workload.retryInterval = try value.duration(atLeast: ScenarioLimits.shortestRetry) }
        if let value = object["redirectBackoff"] { workload.redirectBackoff = try value.duration(atLeast: ScenarioLimits.shortestRedirectBackoff) }
        guard workload.timeout > .zero else { throw object["timeout"]!.error("must be longer than zero") }
        return workload
    }

    /// `"2ms"` (fixed), `{"uniform": ["1ms", "3ms"]}`, `{"exponential": {"min": "1ms", "mean": "2ms"}}`,
    /// `{"long-tail": {"median": "1ms", "p99": "40ms"}}`.
    /// Every parameter is shorter than `limit`, the run's length: a message or a pause that long
    /// would never end within the run.
    static func latency(_ field: JSONField, below limit: TimeSpan) throws(ScenarioError) -> LatencyDistribution {
        if case .string = field.value { return .fixed(try field.duration(below: limit)) }
        let object = try field.object(allowing: ["fixed", "uniform", "exponential", "long-tail"])
        guard object.members.count == 1 else { throw field.error("give exactly one of fixed, uniform, exponential, long-tail") }
        if let fixed = object["fixed"] { return .fixed(try fixed.duration(below: limit)) }
        if let uniform = object["uniform"] {
            let bounds = try uniform.array()
            guard bounds.count == 2 else { throw uniform.error("expected two durations, [lower, upper]") }
            let low = try bounds[0].duration(below: limit), high = try bounds[1].duration(below: limit)
            guard low <= high else { throw uniform.error("lower bound \(low) exceeds upper bound \(high)") }
            return .uniform(low...high)
        }
        if let exponential = object["exponential"] {
            let parameters = try exponential.object(allowing: ["min", "mean"])
            return .exponential(minimum: try parameters["min"]?.duration(below: limit) ?? .zero, mean: try parameters.required("mean").duration(below: limit))
        }
        let tail = try object.required("long-tail")
        let parameters = try tail.object(allowing: ["median", "p99"])
        let median = try parameters.required("median").duration(below: limit), p99 = try parameters.required("p99").duration(below: limit)
        guard median > .zero, p99 >= median else { throw tail.error("expected 0 < median ≤ p99") }
        return .longTail(median: median, p99: p99)
    }

    static let linkKeys = ["latency", "loss", "duplicate", "reorder", "reorderDelay"]

    static func network(_ field: JSONField, runLength: TimeSpan) throws(ScenarioError) -> (LinkProfile, LinkProfile) {
        let object = try field.object(allowing: linkKeys + ["clientLatency"])
        let change = try linkChange(object, runLength: runLength)
        let profile = change.applied(to: LinkProfile(latency: change.latency ?? LinkProfile().latency))
        var client = LinkProfile.local
        if let value = object["clientLatency"] { client = LinkProfile(latency: try latency(value, below: runLength)) }
        return (profile, client)
    }

    static func linkChange(_ object: JSONObject, runLength: TimeSpan) throws(ScenarioError) -> LinkChange {
        LinkChange(latency: try object["latency"].map { field throws(ScenarioError) in try latency(field, below: runLength) },
                   loss: try object["loss"]?.probability(),
                   duplicate: try object["duplicate"]?.probability(),
                   reorder: try object["reorder"]?.probability(),
                   reorderDelay: try object["reorderDelay"].map { field throws(ScenarioError) in try latency(field, below: runLength) })
    }

    static func storage(_ field: JSONField, runLength: TimeSpan) throws(ScenarioError) -> StorageModel {
        let object = try field.object(allowing: ["engine", "faults", "fsync", "fsyncLatency", "flushInterval"])
        var model = StorageModel()
        if let value = object["engine"] {
            let name = try value.string()
            guard let engine = StorageModel.Engine(rawValue: name) else {
                throw value.error("expected \(StorageModel.Engine.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: " or ")), found \"\(name)\"")
            }
            model.engine = engine
        }
        if let value = object["faults"] {
            try requireFileEngine(model.engine, at: value)
            model.faults = try diskFaults(value)
        }
        if let value = object["fsync"] { model.fsync = try value.bool() }
        if let value = object["fsyncLatency"] { model.syncLatency = try value.duration(below: runLength) }
        if let value = object["flushInterval"] {
            model.flushInterval = try value.duration(atLeast: ScenarioLimits.shortestFlushInterval)
            guard model.flushInterval < runLength else { throw value.error("must be shorter than the run (\(runLength))") }
        }
        return model
    }

    /// Disk faults damage files: a scenario that asks for them on the memory engine would run
    /// without them, so it is refused.
    static func requireFileEngine(_ engine: StorageModel.Engine, at field: JSONField) throws(ScenarioError) {
        guard engine == .file else {
            throw field.error("disk faults need the file engine (\"storage\": {\"engine\": \"file\"}); the memory engine has no disk to damage")
        }
    }

    /// `{"partialWrite": 0.5, "tornWrite": 0.5, "bitFlip": 0.001, "lostWrite": 0.001, "misdirectedWrite": 0.001,
    /// "slowSync": 0.01, "slowSyncFactor": 50}`: probabilities (`DiskFaults` says of what), all 0
    /// by default; a slow sync takes `slowSyncFactor` (1…1000) times `fsyncLatency`.
    static func diskFaults(_ field: JSONField) throws(ScenarioError) -> DiskFaults {
        let rates: [(name: String, rate: WritableKeyPath<DiskFaults, Double>)] = [
            ("partialWrite", \.partialWrite), ("tornWrite", \.tornWrite), ("bitFlip", \.bitFlip), ("lostWrite", \.lostWrite),
            ("misdirectedWrite", \.misdirectedWrite), ("slowSync", \.slowSync),
        ]
        let object = try field.object(allowing: rates.map(\.name) + ["slowSyncFactor"])
        var faults = DiskFaults()
        for (name, rate) in rates {
            if let value = object[name] { faults[keyPath: rate] = try value.probability() }
        }
        if let value = object["slowSyncFactor"] { faults.slowSyncFactor = try value.number(in: 1...1_000) }
        return faults
    }

    /// `{"n4": "2s", "n5": "4s"}`: nodes that start later (staggered start).
    static func startTimes(_ field: JSONField, refs: NodeRefDecoder, duration: TimeSpan) throws(ScenarioError) -> [NodeID: Instant] {
        let object = try field.object(allowing: (1...refs.nodes).map { "n\($0)" })
        var times: [NodeID: Instant] = [:]
        for key in object.keys {
            let value = object[key]!
            let time = try value.duration()
            guard time < duration else { throw value.error("start time \(time) is not before the end of the run (\(duration))") }
            times[NodeID(Int(key.dropFirst())!)] = .zero + time
        }
        return times
    }
}

/// The member `key` of an object field, if both exist.
private func member(_ key: String, of field: JSONField?) -> JSONField? {
    guard let field, case .object(let members) = field.value, let value = members.first(where: { $0.key == key })?.value else { return nil }
    return field.child(key, value)
}

extension JSONValue {
    /// Member names of an object (empty otherwise): option names are validated by the backend.
    var memberNames: [String] {
        if case .object(let members) = self { return members.map(\.key) }
        return []
    }
}
