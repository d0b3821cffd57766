import ConsensusCore
import Dispatch
import Foundation
import Simulator

/// `conlab replay`: one simulated run again, with its messages traced in a window, as a page.
public struct ReplayRequest: Sendable {
    /// A run folder (`EXPERIMENT/runs/RUN_ID`) or a scenario file.
    public var target: String
    /// With a run folder: the scenario file it came from, when not `Experiments/<experiment>.json`.
    public var scenarioFile: String?
    /// With a scenario file: which of its runs.
    public var backend: String?
    public var seed: UInt64?
    public var from: TimeSpan?
    public var to: TimeSpan?
    /// Most arrows (and most operation bars) the diagram draws; past it the page says how many it left out.
    public var limit: Int
    public var out: String?

    public static let defaultLimit = 2_000

    public init(target: String, scenarioFile: String? = nil, backend: String? = nil, seed: UInt64? = nil, from: TimeSpan? = nil, to: TimeSpan? = nil,
                limit: Int = defaultLimit, out: String? = nil) {
        self.target = target
        self.scenarioFile = scenarioFile
        self.backend = backend
        self.seed = seed
        self.from = from
        self.to = to
        self.limit = limit
        self.out = out
    }

    /// Whether `target` names a scenario file rather than a run folder.
    public var targetIsScenarioFile: Bool {
        var isDirectory: ObjCBool = false
        return target.hasSuffix(".json") && FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) && !isDirectory.boolValue
    }
}

/// Everything the replay page shows about the run.
struct ReplayModel {
    var target: ReplayTarget
    var output: RunOutput
    var window: ReplayWindow
    var trace: MessageTrace
    var anomalies: [ReplayAnomaly]
    var moments: [ReplayMoment]
    /// Whether the replay's history equals the recorded `history.jsonl`; nil when none was kept.
    var reproduced: Bool?

    var spec: RunSpec { output.spec }
    var result: SimulationResult { output.result }
}

/// What `conlab replay` prints.
public struct ReplayOutcome: Sendable {
    public var page: String
    public var window: String
    public var messages: Int
    public var omitted: Int
    /// false: the replay's history differs from the recorded one (the code or the scenario changed).
    public var reproduced: Bool?
}

public enum Replay {
    /// Finds the run, runs it (twice without a window: first to find the default window), and
    /// writes the page.
    public static func write(_ request: ReplayRequest) throws -> ReplayOutcome {
        let given = try ReplayWindow.given(from: request.from, to: request.to)
        let target = request.targetIsScenarioFile ? try ReplayTarget.scenario(file: request.target, backend: request.backend, seed: request.seed)
                                                  : try ReplayTarget.run(directory: request.target, scenarioFile: request.scenarioFile)
        if target.spec.scenario.sharded != nil {
            // One space-time chart is one cluster's; a sharded run is several, plus the clients between them.
            throw ScenarioError(file: target.spec.scenario.file, path: "sharded",
                                reason: "conlab replay draws the messages of one cluster, and a sharded deployment's groups are clusters of their own; "
                                    + "read the run's events.csv, groups.csv and migrations.csv instead")
        }
        try given?.check(runEnd: target.spec.scenario.simulationConfig(seed: target.spec.seed).end)
        let page = request.out ?? target.defaultPage
        try OutputDirectory.prepare((page as NSString).deletingLastPathComponent.isEmpty ? "." : (page as NSString).deletingLastPathComponent)
        let model = replay(target, window: given, limit: request.limit)
        try Data(ReplayPage.html(model).utf8).write(to: URL(fileURLWithPath: page), options: .atomic)
        return ReplayOutcome(page: page, window: "\(ReplayMoment.seconds(model.window.start))–\(ReplayMoment.seconds(model.window.end)) s",
                             messages: model.trace.messages.count, omitted: model.trace.omitted, reproduced: model.reproduced)
    }

    /// The run with its messages traced in `window` (by default: around its first fault or anomaly).
    static func replay(_ target: ReplayTarget, window given: ReplayWindow?, limit: Int) -> ReplayModel {
        let spec = target.spec
        let chosen = given.map { (window: $0, anchor: nil as Instant?) } ?? ReplayWindow.byDefault(moments(Runner.execute(spec)))
        var window = chosen.window
        var config = spec.scenario.simulationConfig(seed: spec.seed)
        config.messageTrace = MessageTraceWindow(start: window.start, end: window.end, limit: limit)
        let started = DispatchTime.now()
        let result = spec.backend.simulate(config)
        let output = RunOutput(spec: spec, result: result, driver: SimulatorDriver().name,
                               wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        var trace = result.messageTrace!
        if let anchor = chosen.anchor { window = window.trimmed(&trace, anchor: anchor) }
        let anomalies = ReplayAnomaly.parse(output.consistency.anomaliesJSONL, history: result.history)
        return ReplayModel(target: target, output: output, window: window, trace: trace, anomalies: anomalies,
                           moments: ReplayMoment.moments(result, anomalies), reproduced: target.recordedHistory.map { $0 == output.historyText })
    }

    static func moments(_ output: RunOutput) -> [ReplayMoment] {
        ReplayMoment.moments(output.result, ReplayAnomaly.parse(output.consistency.anomaliesJSONL, history: output.result.history))
    }
}
